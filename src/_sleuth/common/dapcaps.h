/* dapcaps.h — the body of sleuth's `initialize` response (DAP Capabilities).
 *
 * One place for both sides: the adapter (`sleuth dap`) answers `initialize`
 * itself before any debuggee exists, and the debuggee server answers it when
 * a client attaches directly. Keep it honest: list only what the debuggee
 * server really does, so that editors do not offer what would fail.
 */
#ifndef SLEUTH_DAPCAPS_H
#define SLEUTH_DAPCAPS_H
#include "compat.h"

/* A new dict, or NULL with an exception. */
PyObject *DapCaps_body(void);

#endif /* SLEUTH_DAPCAPS_H */
