/* native.c — see native.h. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unwind.h>

#include "native.h"

/* How many frames to collect before looking for the interrupted one: the
 * handler's own frames and the signal trampoline come first. */
#define COLLECT_MAX (FAULTS_MAX_NATIVE + 32)

typedef struct {
    uintptr_t pc[COLLECT_MAX];
    int signal_frame[COLLECT_MAX];
    int count;
} walk;

static _Unwind_Reason_Code
collect(struct _Unwind_Context *ctx, void *arg)
{
    walk *w = arg;
    int before = 0;
    uintptr_t pc;
    if (w->count >= COLLECT_MAX)
        return _URC_END_OF_STACK;
    pc = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
    if (pc == 0)
        return _URC_END_OF_STACK;
    w->pc[w->count] = pc;
    w->signal_frame[w->count] = before;
    w->count++;
    return _URC_NO_REASON;
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

void
Faults_native_init(void)
{
    walk w;
    Dl_info info;
    w.count = 0;
    _Unwind_Backtrace(collect, &w);
    (void)dladdr((void *)&Faults_native_init, &info);
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void
dump_one(Faults_out *o, int index, uintptr_t pc, int exact)
{
    Dl_info info;
    /* A return address points after the call; look up the call itself so
     * the symbol is right when the call is the function's last instruction. */
    uintptr_t lookup = exact ? pc : pc - 1;

    Faults_out_puts(o, "  #");
    Faults_out_dec(o, (uintmax_t)index);
    Faults_out_puts(o, index < 10 ? "  0x" : " 0x");
    Faults_out_hex(o, pc, (int)sizeof(void *) * 2);
    memset(&info, 0, sizeof(info));
    if (dladdr((void *)lookup, &info) == 0 || info.dli_fname == NULL) {
        Faults_out_puts(o, " in ??\n");
        return;
    }
    if (info.dli_sname != NULL && info.dli_saddr != NULL) {
        Faults_out_puts(o, " in ");
        Faults_out_puts(o, info.dli_sname);
        Faults_out_puts(o, "+0x");
        Faults_out_hex(o, pc - (uintptr_t)info.dli_saddr, 1);
    }
    else {
        Faults_out_puts(o, " in ?? (");
        Faults_out_puts(o, base_name(info.dli_fname));
        Faults_out_puts(o, "+0x");
        Faults_out_hex(o, pc - (uintptr_t)info.dli_fbase, 1);
        Faults_out_puts(o, ")");
    }
    Faults_out_puts(o, " from ");
    Faults_out_puts(o, info.dli_fname[0] ? info.dli_fname : "the main program");
    Faults_out_puts(o, "\n");
}

void
Faults_dump_native(Faults_out *o, void *ucontext)
{
    walk w;
    uintptr_t target = interrupted_pc(ucontext);
    int first = 0, shown = 0;

    w.count = 0;
    _Unwind_Backtrace(collect, &w);
    /* Skip our own frames: everything up to the interrupted instruction. */
    if (target != 0) {
        for (int i = 0; i < w.count; i++) {
            if (w.pc[i] == target) {
                first = i;
                break;
            }
        }
    }
    else {
        first = 1;      /* this function */
    }
    Faults_out_puts(o, "\nCurrent thread's native stack (most recent call first):\n");
    if (w.count <= first) {
        Faults_out_puts(o, "  <no native frames: the unwinder found none>\n");
        return;
    }
    for (int i = first; i < w.count; i++) {
        if (shown >= FAULTS_MAX_NATIVE) {
            Faults_out_puts(o, "  ...\n");
            break;
        }
        dump_one(o, shown, w.pc[i], i == first || w.signal_frame[i]);
        shown++;
    }
}
