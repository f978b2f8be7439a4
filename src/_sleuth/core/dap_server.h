/* dap_server.h — the Debug Adapter Protocol inside the debugged process.
 *
 * One client at a time, over a socket (`--listen` accepts one, `--connect`
 * dials an adapter). A reader thread (a C thread with its own thread state)
 * reads each message without the GIL, then, with the GIL:
 *   - serves what needs no stopped thread (initialize, attach/launch,
 *     setBreakpoints, setFunctionBreakpoints, setExceptionBreakpoints,
 *     configurationDone, threads, pause, disconnect, terminate,
 *     loadedSources, source by path);
 *   - queues what is about a stop (stackTrace, scopes, variables,
 *     evaluate, setVariable, setExpression, exceptionInfo, continue, next,
 *     stepIn, stepOut, goto, gotoTargets, source by sourceReference) for
 *     the stopped thread, which
 *     waits for them with the GIL released (dap_stop.c) and runs them in
 *     its own frames, so code evaluated there never reaches the engine.
 * The engine reports stops to the server instead of the terminal prompt
 * when the debugger object is the server's (its session frontend, session.h).
 * The reader thread is never stopped: events in it are ignored. One thread
 * is stopped at a time (allThreadsStopped is false): another thread that
 * stops waits for it.
 */
#ifndef SLEUTH_DAP_SERVER_H
#define SLEUTH_DAP_SERVER_H
#include "pdb.h"
#include "session.h"
#include "pythread.h"
#include "dapwire.h"
#include <stdatomic.h>

/* Output events (log points) wait here for the writer thread, so that a
 * flood of them never holds up a response: see dap_server.c, "sending". */
typedef struct DapOutMsg DapOutMsg;
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t more;            /* the writer waits for a message */
    pthread_cond_t room;            /* a program thread waits for room, a flush for the end */
    DapOutMsg *head, *tail;
    size_t bytes;                   /* what the queued messages cost (DAP_OUTQ_MAX at most) */
    int dropping;                   /* room did not come: drop (counted) until half empty */
    int busy;                       /* the writer is writing a message it took */
    int started;                    /* the writer thread runs */
} DapOutQueue;

typedef struct DapServer {
    int listen_fd, fd;              /* -1 when closed */
    PyThread_type_lock write_lock;  /* one message at a time on fd */
    long seq;                       /* last seq sent (under write_lock) */
    atomic_int urgent;              /* responses and events waiting for write_lock: the writer yields */
    volatile unsigned long conn_gen;   /* which client (changes under write_lock) */
    DapOutQueue outq;
    unsigned long reader_ident;     /* the reader thread (never stopped) */
    unsigned long main_ident;       /* the thread that started the server */
    volatile int connected;         /* a client is there */
    volatile int configured;        /* configurationDone received */
    volatile int reader_running;
    int is_listen;                  /* accept again after a client leaves */
    int stop_on_entry, entry_pending, just_my_code;
    int filter_raised, filter_uncaught, filter_user_unhandled;
    int continued_events;           /* `continued` after a resume (not for Visual Studio, as debugpy) */
    const char *stop_break_mode;    /* exceptionInfo's breakMode for the stop */
    PyObject *unhandled_seen;       /* address only, never dereferenced: the last 'userUnhandled' stop's exception */
    volatile unsigned long stopped_thread;   /* the thread at a stop, or 0 */
    volatile int pause_requested;
    volatile int resume_now;        /* the client left: the stopped thread goes on */
    PdbObject *pdb;                 /* strong: the engine's debugger object */
    PyObject *stopq;                /* list of requests for the stopped thread */
    PyObject *bp_meta;              /* dict bp number -> [log parts or None, hitCondition, kind, hits] */
    PyObject *bp_by_file;           /* dict canonical file -> list of bp numbers */
    PyObject *func_bps;             /* list of bp numbers */
    PyObject *pending;              /* dict canonical file -> (path, bp numbers): verified when it loads */
    PyObject *thread_ids;           /* dict ident -> DAP thread id (dap_threads.c) */
    PyObject *threads_known;        /* dict ident -> None: threads the client heard of */
    long last_thread_id;
    int threads_announced;          /* thread events go out (after attach) */
    PyThread_type_lock threads_lock;   /* one thread scan at a time */
    atomic_ullong os_threads_seen;  /* DapThreads_os_signature() at the last scan; 0: look again */
    PyObject *lib_prefixes;         /* tuple of str: justMyCode's library dirs */
    DapWriter writer;               /* framing on fd (its own mutex; seq order under write_lock) */
    Session session;
    char host[256];
    int port;
} DapServer;

/* The server whose debugger object `d` is, or NULL. */
/* The running server, or NULL. */
DapServer *Dap_current(void);

/* Start a server: listen on host:port (port 0: any; the bound port is in
 * srv->port) or connect to it. Prints `sleuth: listening on HOST:PORT` on
 * stderr when listening. NULL with an exception set. */
DapServer *Dap_start(const char *host, int port, int listen_mode, int allow_remote);
/* Wait (GIL released) until the client sent configurationDone or left.
 * 1 when configured. */
int Dap_wait_configured(DapServer *srv);
/* The program ended: `exited` (exit_code >= 0) and `terminated`. */
void Dap_program_ended(DapServer *srv, int exit_code);

/* Messages (any thread, GIL held). body may be NULL. */
int Dap_send(DapServer *srv, PyObject *msg);
int Dap_event(DapServer *srv, const char *event, PyObject *body);
/* In a process forked from the debugged one: the client stays the
 * parent's; the first call detaches the child from it (GIL held). 1 there. */
int Dap_forked_child(DapServer *srv);
int Dap_respond(DapServer *srv, PyObject *req, PyObject *body);
int Dap_fail(DapServer *srv, PyObject *req, const char *fmt, ...);
/* Output events without dicts (log points, dap_stop.c). Dap_output_queued:
 * this thread's output events go through the writer thread's queue (else
 * send them with Dap_event). Dap_output_json: queue one, given as the JSON
 * text of the message from just after its '{' ("type":"event",...}), with
 * no "seq" (the writer numbers it): the bytes Dap_event(srv, "output", body)
 * would queue. -1 when there is no client or no memory. */
int Dap_output_queued(DapServer *srv);
int Dap_output_json(DapServer *srv, const char *text, size_t n);

/* Arguments: 1 found, 0 absent (default kept), -1 wrong type (a failure
 * response was sent). */
int Dap_arg_long(DapServer *srv, PyObject *req, PyObject *args, const char *key, int required, long *out);
int Dap_arg_str(DapServer *srv, PyObject *req, PyObject *args, const char *key, int required, PyObject **out);
int Dap_arg_bool(DapServer *srv, PyObject *req, PyObject *args, const char *key, int *out);

/* The engine's stops (pdb.c's user_* hooks, through the server's session frontend). `what` says
 * which event; 0 or -1 with an exception (BdbQuit) like the user_* hooks. */
enum { DAP_STOP_LINE, DAP_STOP_EXCEPTION, DAP_STOP_POST_MORTEM };
int Dap_stop(DapServer *srv, PyObject *frame, PyObject *exc, PyObject *tb, int what);
/* A request for the stopped thread (dap_stop.c). 1 when it resumes. */
int DapStop_handle(DapServer *srv, PyObject *req);
/* A log point's message compiled once (dap_stop.c): a tuple of parts for
 * the stop, or NULL: *bad_expr (new ref) is an {expr} that does not
 * compile, else an exception is set. */
PyObject *DapLog_compile(PyObject *message, PyObject **bad_expr);
/* The file of `frame` is library code (justMyCode). */
int Dap_is_library_frame(DapServer *srv, PyObject *frame);
/* Running: no stepping, stop at breakpoints only. */
void Dap_set_running(DapServer *srv);

int Dap_traverse(DapServer *srv, visitproc visit, void *arg);

/* Threads (dap_threads.c; GIL held). The DAP id of thread `ident` (given
 * one when new; 0 on failure), and back (0: no such thread). */
long DapThreads_id(DapServer *srv, unsigned long ident);
unsigned long DapThreads_ident(DapServer *srv, long id);
/* Compare the program's threads with what the client heard: `thread`
 * events for those started and ended since. */
void DapThreads_scan(DapServer *srv);
/* The client attached: thread events from now on (and the first ones). */
void DapThreads_start(DapServer *srv);
/* The client left. */
void DapThreads_forget(DapServer *srv);
/* The body of a `threads` response (new reference, or NULL). */
PyObject *DapThreads_body(DapServer *srv);
/* A signature of the process's OS threads, read without the GIL (0: it
 * cannot be read). While it equals srv->os_threads_seen, no thread started
 * or ended since the last scan, and the idle reader does not take the GIL
 * to look. */
unsigned long long DapThreads_os_signature(void);
/* Does the idle reader need to look at the threads (no GIL needed)? */
int DapThreads_may_have_changed(DapServer *srv);
/* How long the reader waits for a message before it looks at the threads. */
#define DAP_THREAD_POLL_MS 200

/* Sources (dap_source.c). `source` in the reader thread (a path; a
 * sourceReference goes to the stopped thread) and in the stopped thread
 * (a sourceReference is the id of a frame of the stop); `loadedSources`
 * (the reader thread). Like the request handlers: 0, or -1 (internal error). */
int DapSource_request(DapServer *srv, PyObject *req, PyObject *args);
int DapSource_stop_request(DapServer *srv, PyObject *req, PyObject *args);
int DapSource_loaded_request(DapServer *srv, PyObject *req, PyObject *args);
/* `filename` names a file that exists (stackTrace gives a sourceReference
 * to a frame whose file does not). */
int DapSource_on_disk(PyObject *filename);

/* Python API: sleuth.listen(), sleuth.wait_for_client(). */
PyObject *Dap_listen_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Dap_wait_for_client_py(PyObject *module, PyObject *unused);

#endif
