/* rd_sig.h — the signature of a failure: what `sleuth reduce` keeps constant
 * by default. A failing test's exit status (or signal), and when its output
 * holds a Python traceback, the last one's exception type and innermost
 * frame (file and function; never the line, which moves as input shrinks). */
#ifndef SLEUTH_RD_SIG_H
#define SLEUTH_RD_SIG_H

#include <limits.h>
#include <stddef.h>

typedef struct {
    int status;              /* wait status of the test */
    int have_tb;             /* a traceback was found in the output */
    char exc[128];           /* exception type, e.g. "KeyError" or "json.decoder.JSONDecodeError" */
    char file[PATH_MAX];     /* innermost frame's file; "INPUT" when it is the candidate */
    char func[256];          /* innermost frame's function */
} RdSig;

/* Fills sig from a finished test's wait status and output. cand is the path
 * the test was given (a frame in it is recorded as "INPUT", so candidates in
 * different folders compare equal). */
void rd_sig_read(RdSig *sig, int status, const char *out, size_t len, const char *cand);

/* Nonzero when b fails the same way as a. */
int rd_sig_same(const RdSig *a, const RdSig *b);

/* "exit status 1, KeyError in load() of app.py" into buf. */
void rd_sig_describe(const RdSig *sig, char *buf, size_t len);

#endif
