/* relay.h — one client of `sleuth dap`, from `initialize` to `disconnect`.
 *
 * Until the client launches or attaches, the adapter answers it alone
 * (`initialize` with sleuth's capabilities; anything else is an error). On
 * `launch` it starts `PYTHON -m sleuth --connect 127.0.0.1:PORT ...` and
 * accepts the program's connection; on `attach` it connects to a program
 * started with `python -m sleuth --listen`. Then it forwards the client's
 * `initialize` (swallowing the debuggee's answer, the client has one) and
 * the `launch`/`attach` request, and relays every message both ways.
 *
 * Threads: the caller's thread reads the client; a relay thread reads the
 * debuggee; in launch mode a watch thread reads the program's stdout/stderr
 * (as `output` events) and waits for it to exit (`exited` with its status,
 * then `terminated`). Blocking I/O runs without the GIL; JSON work with it.
 * Everything sent to the client goes through one writer that numbers it
 * (`seq`) in the order it is written.
 */
#ifndef SLEUTH_DAP_RELAY_H
#define SLEUTH_DAP_RELAY_H
#include "compat.h"

/* Serve one client on in_fd/out_fd (the same socket, or stdin/stdout) until
 * it disconnects or goes away; the debuggee is ended or left as DAP says.
 * Needs the GIL. 0, or -1 with an exception (internal errors only: a bad
 * client is answered, never raised). */
int Relay_serve(int in_fd, int out_fd);

#endif
