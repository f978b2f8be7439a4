/* native.c — see native.h. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include "native.h"
#include "safemem.h"

/* Frames that may be ours (handler, unwinder) before the interrupted one. */
#define SKIP_MAX 64

/* The return address on top of the interrupted stack, for a fault on the
 * first instruction of a call to a bad address (x86-64: the call pushed it,
 * the callee had no chance to set up a frame). 0 if unknown. */
static uintptr_t
interrupted_return_address(void *ucontext)
{
#if defined(__x86_64__)
    const ucontext_t *uc = ucontext;
    uintptr_t ret = 0;
    if (uc == NULL
            || Faults_safe_read(&ret, (const void *)(uintptr_t)uc->uc_mcontext.gregs[REG_RSP],
                                sizeof(ret)) < 0)
        return 0;
    return ret;
#else
    (void)ucontext;
    return 0;
#endif
}

static uintptr_t
interrupted_pc(void *ucontext)
{
    const ucontext_t *uc = ucontext;
    if (uc == NULL)
        return 0;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------ */
/* Names of functions dladdr() cannot see (static functions: most of
 * CPython's interpreter and garbage collector) come from the module's own
 * .symtab, read from its file with open/pread/close on the signal stack.
 * Stripped modules (most distribution libraries) have none: "??" stays. */

#define MAX_MODULES 8

typedef struct {
    const char *path;           /* dli_fname: the loader's string, identity key */
    int fd;                     /* -1 if unusable */
    uintptr_t load_bias;        /* run-time address minus link-time address */
    off_t symtab_off;
    size_t symtab_count;
    off_t strtab_off;
    size_t strtab_size;
} elf_module;

typedef struct {
    elf_module mod[MAX_MODULES];
    int count;
} elf_cache;

static long page_size = 4096;

static int
pread_all(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;
    while (n > 0) {
        ssize_t got = pread(fd, p, n, off);
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
        off += got;
    }
    return 0;
}

static void
elf_open(elf_module *m, const char *path, uintptr_t base)
{
    ElfW(Ehdr) eh;
    m->path = path;
    m->symtab_count = 0;
    m->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (m->fd < 0)
        return;
    if (pread_all(m->fd, &eh, sizeof(eh), 0) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0
            || eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)
            || eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_phentsize != sizeof(ElfW(Phdr)))
        goto unusable;
    /* dladdr's base is the start of the first loadable segment's mapping. */
    m->load_bias = base;
    for (int i = 0; i < eh.e_phnum && i < 64; i++) {
        ElfW(Phdr) ph;
        if (pread_all(m->fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (size_t)i * sizeof(ph))) < 0)
            goto unusable;
        if (ph.p_type == PT_LOAD) {
            m->load_bias = base - (ph.p_vaddr & ~(uintptr_t)(page_size - 1));
            break;
        }
    }
    for (int i = 0; i < eh.e_shnum && i < 256; i++) {
        ElfW(Shdr) sh, str;
        if (pread_all(m->fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + (size_t)i * sizeof(sh))) < 0)
            goto unusable;
        if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(ElfW(Sym)))
            continue;
        if (sh.sh_link >= eh.e_shnum
                || pread_all(m->fd, &str, sizeof(str),
                             (off_t)(eh.e_shoff + (size_t)sh.sh_link * sizeof(str))) < 0)
            goto unusable;
        m->symtab_off = (off_t)sh.sh_offset;
        m->symtab_count = sh.sh_size / sizeof(ElfW(Sym));
        m->strtab_off = (off_t)str.sh_offset;
        m->strtab_size = str.sh_size;
        return;
    }
unusable:
    close(m->fd);
    m->fd = -1;
}

/* Find the function containing pc in the module's .symtab. On success,
 * writes its name into name (size n) and its start address into *start. */
static int
elf_lookup(elf_cache *cache, const char *path, uintptr_t base, uintptr_t pc,
           char *name, size_t n, uintptr_t *start)
{
    elf_module *m = NULL;
    ElfW(Sym) chunk[128];
    uintptr_t rel;
    size_t best_name = 0;
    uintptr_t best_value = 0;
    int found = 0;

    for (int i = 0; i < cache->count; i++)
        if (cache->mod[i].path == path)
            m = &cache->mod[i];
    if (m == NULL) {
        if (cache->count == MAX_MODULES)
            return 0;
        m = &cache->mod[cache->count++];
        elf_open(m, path, base);
    }
    if (m->fd < 0 || m->symtab_count == 0)
        return 0;
    rel = pc - m->load_bias;
    for (size_t done = 0; done < m->symtab_count;) {
        size_t k = m->symtab_count - done;
        if (k > sizeof(chunk) / sizeof(chunk[0]))
            k = sizeof(chunk) / sizeof(chunk[0]);
        if (pread_all(m->fd, chunk, k * sizeof(chunk[0]),
                      m->symtab_off + (off_t)(done * sizeof(chunk[0]))) < 0)
            return 0;
        for (size_t j = 0; j < k; j++) {
            const ElfW(Sym) *sym = &chunk[j];
            if (ELF32_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF
                    || sym->st_size == 0)
                continue;
            if (rel >= sym->st_value && rel - sym->st_value < sym->st_size) {
                best_name = sym->st_name;
                best_value = sym->st_value;
                found = 1;
                break;
            }
        }
        if (found)
            break;
        done += k;
    }
    if (!found || best_name >= m->strtab_size)
        return 0;
    if (pread(m->fd, name, n - 1, m->strtab_off + (off_t)best_name) <= 0)
        return 0;
    name[n - 1] = '\0';
    *start = best_value + m->load_bias;
    return name[0] != '\0';
}

static void
elf_close_all(elf_cache *cache)
{
    for (int i = 0; i < cache->count; i++)
        if (cache->mod[i].fd >= 0)
            close(cache->mod[i].fd);
    cache->count = 0;
}

/* ------------------------------------------------------------------------ */

static _Unwind_Reason_Code
count_frame(struct _Unwind_Context *ctx, void *arg)
{
    (void)ctx;
    return ++*(int *)arg < 4 ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* The entry points of CPython's fatal-error path, found once with dlsym
 * (not in a handler): Py_FatalError() and the functions behind it write
 * their own report to stderr, then call abort(). */
static uintptr_t fatal_entries[4];
static int nfatal_entries = 0;

static void
resolve_fatal_entries(void)
{
    static const char *const names[] = {
        "_Py_FatalErrorFunc", "_Py_FatalErrorFormat", "Py_FatalError", "Py_ExitStatusException",
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        void *p = dlsym(RTLD_DEFAULT, names[i]);
        if (p != NULL)
            fatal_entries[n++] = (uintptr_t)p;
    }
    nfatal_entries = n;
}

void
Faults_native_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    Dl_info info;
    int n = 0;
    if (ps > 0)
        page_size = ps;
    _Unwind_Backtrace(count_frame, &n);
    (void)dladdr((void *)&Faults_native_init, &info);
    if (nfatal_entries == 0)
        resolve_fatal_entries();
}

typedef struct {
    int seen;
    int found;
} fatal_walk;

static _Unwind_Reason_Code
find_fatal_entry(struct _Unwind_Context *ctx, void *arg)
{
    fatal_walk *w = arg;
    int before = 0;
    uintptr_t pc = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
    Dl_info info;

    if (pc == 0 || ++w->seen > SKIP_MAX + 16)
        return _URC_END_OF_STACK;
    memset(&info, 0, sizeof(info));
    if (dladdr((void *)(before ? pc : pc - 1), &info) != 0 && info.dli_saddr != NULL) {
        for (int i = 0; i < nfatal_entries; i++) {
            if ((uintptr_t)info.dli_saddr == fatal_entries[i]) {
                w->found = 1;
                return _URC_END_OF_STACK;
            }
        }
    }
    return _URC_NO_REASON;
}

int
Faults_native_in_fatal_error(void *ucontext)
{
    fatal_walk w = {0, 0};
    uintptr_t target = interrupted_pc(ucontext);
    unsigned char probe;

    /* As in Faults_dump_native: never let the unwinder read unmapped code. */
    if (nfatal_entries == 0 || target == 0 || Faults_safe_read(&probe, (void *)target, 1) < 0)
        return 0;
    _Unwind_Backtrace(find_fatal_entry, &w);
    return w.found;
}

static void
dump_one(Faults_out *o, elf_cache *cache, int index, uintptr_t pc, int exact)
{
    Dl_info info;
    char name[128];
    uintptr_t start;
    /* A return address points after the call; look up the call itself so
     * the symbol is right when the call is the function's last instruction. */
    uintptr_t lookup = exact ? pc : pc - 1;

    /* CPython 3.14's line: `  Binary file "MODULE", at SYMBOL+0xOFF [0xPC]`,
     * `at +0xOFF` (from the module's base) when no symbol is known. Static
     * functions get their name from the module's .symtab, which 3.14 does
     * not read. */
    (void)index;
    memset(&info, 0, sizeof(info));
    if (dladdr((void *)lookup, &info) == 0 || info.dli_fname == NULL) {
        Faults_out_puts(o, "  Binary file \"<unknown>\" [0x");
    }
    else {
        Faults_out_puts(o, "  Binary file \"");
        Faults_out_puts(o, info.dli_fname);
        Faults_out_puts(o, "\", at ");
        if (info.dli_sname != NULL && info.dli_saddr != NULL) {
            Faults_out_puts(o, info.dli_sname);
            Faults_out_puts(o, "+0x");
            Faults_out_hex(o, pc - (uintptr_t)info.dli_saddr, 1);
        }
        else if (elf_lookup(cache, info.dli_fname, (uintptr_t)info.dli_fbase, lookup,
                            name, sizeof(name), &start)) {
            Faults_out_puts(o, name);
            Faults_out_puts(o, "+0x");
            Faults_out_hex(o, pc - start, 1);
        }
        else {
            Faults_out_puts(o, "+0x");
            Faults_out_hex(o, pc - (uintptr_t)info.dli_fbase, 1);
        }
        Faults_out_puts(o, " [0x");
    }
    Faults_out_hex(o, pc, 1);
    Faults_out_puts(o, "]\n");
}

typedef struct {
    Faults_out *o;
    elf_cache *cache;
    uintptr_t target;           /* the interrupted pc; 0 outside a handler */
    int visited;                /* frames seen before the first shown one */
    int shown;
    int truncated;
} walk;

/* Called by the unwinder for each frame, innermost first. Frames are
 * written (and flushed) one at a time: if a later step of the unwinder
 * faults on a corrupted stack, what was found so far is already out. */
static _Unwind_Reason_Code
walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    walk *w = arg;
    int before = 0;
    uintptr_t pc = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);

    if (pc == 0)
        return _URC_END_OF_STACK;
    if (w->shown == 0) {
        /* Skip our own frames: up to the interrupted instruction (or, with
         * no signal context, this function and its caller). */
        int first = w->target ? pc == w->target : w->visited >= 2;
        if (!first)
            return ++w->visited < SKIP_MAX ? _URC_NO_REASON : _URC_END_OF_STACK;
        before = 1;
    }
    if (w->shown >= FAULTS_MAX_NATIVE) {
        w->truncated = 1;
        return _URC_END_OF_STACK;
    }
    dump_one(w->o, w->cache, w->shown, pc, before);
    Faults_out_flush(w->o);
    w->shown++;
    return _URC_NO_REASON;
}

void
Faults_dump_native(Faults_out *o, void *ucontext)
{
    elf_cache cache;
    walk w;
    unsigned char probe;

    cache.count = 0;
    w.o = o;
    w.cache = &cache;
    w.target = interrupted_pc(ucontext);
    w.visited = w.shown = w.truncated = 0;
    Faults_out_puts(o, "Current thread's C stack trace (most recent call first):\n");
    Faults_out_flush(o);
    /* libgcc reads the code at a frame's pc when it has no unwind table for
     * it (to recognise signal trampolines): never let it near an address
     * that is not mapped, such as after a call through a bad pointer. */
    if (ucontext == NULL || (w.target != 0 && Faults_safe_read(&probe, (void *)w.target, 1) == 0))
        _Unwind_Backtrace(walk_frame, &w);
    if (w.shown == 0 && ucontext != NULL) {
        /* No unwind information at the faulting address (a jump or call to
         * a bad pointer): show where it was and who called it. */
        uintptr_t ret = interrupted_return_address(ucontext);
        dump_one(o, &cache, 0, w.target, 1);
        if (ret != 0)
            dump_one(o, &cache, 1, ret, 0);
        Faults_out_puts(o, "  <cannot unwind further: the faulting address has no unwind information>\n");
    }
    else if (w.shown == 0) {
        Faults_out_puts(o, "  <no native frames: the unwinder found none>\n");
    }
    else if (w.truncated) {
        Faults_out_puts(o, "  <truncated rest of calls>\n");
    }
    elf_close_all(&cache);
}
