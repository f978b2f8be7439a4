/* redact.h — decide what is secret, remember it, and scrub it from text.
 *
 * Redaction follows the value, not only the name:
 *   - name rules: a local, dict key (str or bytes), attribute or field whose
 *     name looks secret hides its value. Two layers: the substring patterns
 *     (DEFAULT_REDACT, replaced by `redact=`, extended by `redact_extra=`)
 *     and, while the defaults are in use, word rules on the normalised name
 *     (case folded, `-`/`_`/`.`/camelCase split into words: `DB_PASS`,
 *     `x-api-key`, `GITHUB_PAT`, `STRIPE_KEY`, `pwd`, `creds`, but not
 *     `passenger`, `keyboard`, `monkey`, `compass`). `redact_names=` adds
 *     names matched as whole words;
 *   - value shapes, whatever the name: credential URLs, `Bearer`/`Basic`
 *     credentials, AWS access keys, JWTs, GitHub, Stripe and Slack tokens,
 *     PEM private-key blocks, `name=value` / `name: "value"` with a secret
 *     name; `redact_patterns=` (regular expressions) and `redact_values=`
 *     (literal texts) add to them;
 *   - high-entropy values next to an auth word: a run of 32+ hex or
 *     base64 characters that looks random (thresholds below) right after a
 *     secret name (`token 8f3a...`, `secret is ...`) or after a near-miss
 *     name with `=`/`:` (`key=...`, `sig: ...`), and such a value held by a
 *     local, key or attribute with a near-miss name (`tok`, `hmac_key`);
 *   - a value found secret is noted once per batch (Redact_Found, memory
 *     only) and then scrubbed from every text the batch writes.
 *
 * A rule set is a 5-tuple built once per call or hook (immutable, GC-visible):
 *   (patterns: tuple of lowercase str,   substring layer
 *    words: bool,                        built-in word rules on
 *    names: tuple of str "w1 w2",        user names, normalised
 *    regexes: tuple of re.Pattern,       user value patterns
 *    values: tuple of str)               user literal values
 * Callers own the tuple; these functions never keep a reference.
 */
#ifndef SLEUTH_REDACT_H
#define SLEUTH_REDACT_H
#include "compat.h"

/* What a redacted value looks like: its repr text and the str it stands for. */
#define REDACT_TEXT "[redacted]"
#define REDACT_REPR "'[redacted]'"

/* Secrets shorter than this are hidden where they were found but not hunted
 * through other text (a 3-letter password would blank every "abc"). */
#define REDACT_MIN_NEEDLE 6
#define REDACT_MIN_ENV_NEEDLE 12

typedef enum {
    REDACT_K_NAME = 0,      /* its name, key, attribute or field */
    REDACT_K_PAIR,          /* ("password", value) */
    REDACT_K_ASSIGN,        /* password=..., "token": "..." in text */
    REDACT_K_ARGV,          /* --token VALUE */
    REDACT_K_URL,           /* scheme://user:PASSWORD@host */
    REDACT_K_AUTH,          /* Bearer ... / Basic ... */
    REDACT_K_AWS,           /* AKIA... / ASIA... */
    REDACT_K_JWT,           /* eyJ... */
    REDACT_K_GITHUB,        /* ghp_..., github_pat_... */
    REDACT_K_STRIPE,        /* sk_live_..., rk_live_... */
    REDACT_K_SLACK,         /* xoxb-... */
    REDACT_K_PEM,           /* -----BEGIN ... PRIVATE KEY----- */
    REDACT_K_USER_VALUE,    /* redact_values= */
    REDACT_K_USER_PATTERN,  /* redact_patterns= */
    REDACT_K_ENTROPY,       /* random-looking value next to an auth word */
    REDACT_NKINDS
} Redact_Kind;

/* Stable names of the kinds ("name", "url_password", ...). */
extern const char *const Redact_kind_names[REDACT_NKINDS];

/* New tuple of the built-in substring patterns (password, secret, ...). */
PyObject *Redact_default_patterns(void);

/* Rule set from the user's options (each may be NULL or None):
 *   replace: an iterable of str that replaces the default patterns (and
 *            turns the built-in word rules off);  extra: str added;
 *   names: words;  patterns: regular expressions (str or compiled);
 *   values: literal str values.
 * New 5-tuple; NULL with TypeError/re.error on a bad item. */
PyObject *Redact_build_full(PyObject *replace, PyObject *extra, PyObject *names,
                            PyObject *patterns, PyObject *values);
/* Redact_build_full(replace, extra, None, None, None). */
PyObject *Redact_build(PyObject *replace, PyObject *extra);
/* The substring patterns of a rule set (borrowed), or NULL. */
PyObject *Redact_patterns_of(PyObject *rules);

/* 1 when `name` (str or bytes; other objects never match) is secret under
 * `rules`, 0 when not (or rules is NULL), -1 with an exception set. */
int Redact_name_matches(PyObject *rules, PyObject *name);

/* Same test for a UTF-8 C string of `len` bytes. Never fails. */
int Redact_utf8_matches(PyObject *rules, const char *name, Py_ssize_t len);

/* Same for an environment variable's name: PWD and OLDPWD (the shell's
 * directories) are not secret there. Never fails. */
int Redact_env_name_matches(PyObject *rules, const char *name, Py_ssize_t len);

/* The built-in rules alone (default patterns and word rules), for callers
 * without Python objects (sleuth stacks). Never fails. */
int Redact_default_name_matches(const char *name, Py_ssize_t len);

/* The high-entropy rule (docs/evidence.md, "High-entropy values"): a
 * candidate is a maximal run of [A-Za-z0-9+/_-] (then up to two '=') of at
 * least REDACT_ENTROPY_MIN_LEN characters, not a UUID (8-4-4-4-12 hex), not
 * starting with '/' (a path), not followed by ".x" (a file name). It looks
 * random when it is all hex with a digit and a letter and has at least
 * REDACT_ENTROPY_HEX_BITS of Shannon entropy per character, or mixes two of
 * upper case, lower case and digits and has at least REDACT_ENTROPY_B64_BITS.
 * Near-miss names: a last word key(s), tok, tkn, sig, signature, hmac, pass,
 * pat, otp, with no word saying it is a digest or an id (hash, sha, md5,
 * digest, checksum, etag, commit, rev, uuid, id...) and no innocent word
 * before "key" (cache, sort, primary...). */
#define REDACT_ENTROPY_MIN_LEN 32
#define REDACT_ENTROPY_HEX_BITS 3.0
#define REDACT_ENTROPY_B64_BITS 3.7

/* 1 when s[0:n] (surrounding blanks aside) is one random-looking run. */
int Redact_high_entropy(const char *s, Py_ssize_t n);

/* 1 when `name` (str or bytes) is a near-miss name under `rules` (the
 * built-in word rules on) and `value` (str or bytes) looks random. Never
 * fails. */
int Redact_near_secret(PyObject *rules, PyObject *name, PyObject *value);

/* The same for C strings, with the built-in rules (sleuth stacks). */
int Redact_default_near_secret(const char *name, Py_ssize_t nlen, const char *value,
                               Py_ssize_t vlen);

/* `text` with the built-in value shapes replaced by "[redacted]": a new
 * malloc()ed string, or NULL when nothing was found (or no memory). The
 * caller holds the GIL (PyMem scratch buffers). */
char *Redact_scrub_cstr(const char *text, size_t n);

/* ------------------------------------------------------------------------ */
/* What one batch found. Zero-initialise; Redact_found_clear frees.          */

typedef struct {
    PyObject *values;                   /* dict: str secret -> kind (int) */
    Py_ssize_t counts[REDACT_NKINDS];   /* places hidden, by kind */
    Py_ssize_t replaced;                /* places where text was replaced */
} Redact_Found;

void Redact_found_clear(Redact_Found *f);

/* Remember `value` (str, bytes, or a small container of them: its str
 * items) as a secret found by `kind`. Values shorter than `min_len` are
 * only counted. Never fails. */
void Redact_note(Redact_Found *f, PyObject *value, Redact_Kind kind, Py_ssize_t min_len);

/* Note the user's literal values of `rules`, and the secrets of a command
 * line (`--token VALUE`, `--password=VALUE`, `token=VALUE`). Never fail. */
void Redact_note_rules(Redact_Found *f, PyObject *rules);
void Redact_note_argv(Redact_Found *f, PyObject *rules, PyObject *argv);
/* Environment variables with a secret name, values of at least
 * REDACT_MIN_ENV_NEEDLE characters (XDG_SESSION_TYPE=x11 must not blank
 * every "x11"). Never fails. */
void Redact_note_environ(Redact_Found *f, PyObject *rules);

/* `text` (new str) with every shape and every noted secret replaced by
 * "[redacted]". NULL only on MemoryError. */
PyObject *Redact_scrub_str(PyObject *rules, Redact_Found *f, PyObject *text);

/* Scrub every str of `lines` (a list) in place: a PEM block may span lines.
 * Shapes found in any line are noted first, so they are hidden everywhere.
 * 0, or -1 with an exception. */
int Redact_scrub_lines(PyObject *rules, Redact_Found *f, PyObject *lines);

/* Scrub the string values of a JSON document (keys are left as they are,
 * and so are the values of "filename", "format", "type", "module" and
 * "qualname"): two passes, so a secret found anywhere is hidden
 * everywhere. *out is a PyMem buffer the caller frees, or NULL when nothing
 * changed. 0, or -1 with MemoryError. */
int Redact_scrub_json(PyObject *rules, Redact_Found *f, const char *in, Py_ssize_t n,
                      char **out, Py_ssize_t *outn);

#endif /* SLEUTH_REDACT_H */
