/* hook.h — install(), capture() and the exception hooks that write evidence.
 *
 * install() chains a hook in front of sys.excepthook and
 * threading.excepthook. The hook first calls the hook it replaced (so the
 * traceback on stderr is exactly what it was) and then writes the evidence
 * file; it never raises: a failure to write is one line on stderr. The
 * interpreter's exit status is decided after sys.excepthook returns and we
 * do not touch it, so it stays what it would have been.
 */
#ifndef SLEUTH_HOOK_H
#define SLEUTH_HOOK_H
#include "evidence_state.h"

int Hook_init_type(PyObject *module, EvidenceState *st);

PyObject *Hook_install_py(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *Hook_uninstall_py(PyObject *module, PyObject *unused);
PyObject *Hook_capture_py(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *Hook_capture_json_py(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *Hook_autostart_py(PyObject *module, PyObject *unused);

#endif /* SLEUTH_HOOK_H */
