/* module.c — sleuth._memory: registers types and functions, nothing else. */
#include "api.h"
#include "state.h"
#include "types.h"
#include "snapshot.h"

static struct PyModuleDef sm_module_def;

SmState *
SmState_of_module(PyObject *module)
{
    SmState *st = PyModule_GetState(module);
    if (!st && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "sleuth._memory: no module state");
    return st;
}

SmState *
SmState_of_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &sm_module_def);
    return m ? SmState_of_module(m) : NULL;
}

static int
module_exec(PyObject *m)
{
    SmState *st = PyModule_GetState(m);
    if (SmTypes_add(m, st) < 0 || SmSnapshot_add_types(m, st) < 0)
        return -1;
    st->unknown = Py_BuildValue("(si)", "<unknown>", 0);
    if (!st->unknown)
        return -1;
    return 0;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    SmState *st = PyModule_GetState(m);
    if (!st)
        return 0;
    Py_VISIT(st->Frame);
    Py_VISIT(st->Traceback);
    Py_VISIT(st->Trace);
    Py_VISIT(st->Traces);
    Py_VISIT(st->Statistic);
    Py_VISIT(st->StatisticDiff);
    Py_VISIT(st->BaseFilter);
    Py_VISIT(st->Filter);
    Py_VISIT(st->DomainFilter);
    Py_VISIT(st->Snapshot);
    Py_VISIT(st->unknown);
    return 0;
}

static int
module_clear(PyObject *m)
{
    SmState *st = PyModule_GetState(m);
    if (!st)
        return 0;
    Py_CLEAR(st->Frame);
    Py_CLEAR(st->Traceback);
    Py_CLEAR(st->Trace);
    Py_CLEAR(st->Traces);
    Py_CLEAR(st->Statistic);
    Py_CLEAR(st->StatisticDiff);
    Py_CLEAR(st->BaseFilter);
    Py_CLEAR(st->Filter);
    Py_CLEAR(st->DomainFilter);
    Py_CLEAR(st->Snapshot);
    Py_CLEAR(st->unknown);
    return 0;
}

static void
module_free(void *m)
{
    (void)module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef sm_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._memory",
    .m_doc = "sleuth.memory: a tracemalloc-compatible allocation tracer.",
    .m_size = sizeof(SmState),
    .m_methods = SmApi_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__memory(void)
{
    return PyModuleDef_Init(&sm_module_def);
}
