/* dapcaps.c — sleuth's DAP capabilities (see dapcaps.h). */
#include "dapcaps.h"

/* Boolean capabilities that are true. Names are the DAP specification's
 * (note its spelling "supportTerminateDebuggee"). */
static const char *const SUPPORTED[] = {
    "supportsConfigurationDoneRequest",
    "supportsConditionalBreakpoints",
    "supportsHitConditionalBreakpoints",
    "supportsLogPoints",
    "supportsFunctionBreakpoints",
    "supportsEvaluateForHovers",
    "supportsCompletionsRequest",
    "supportsLoadedSourcesRequest",
    "supportsSetVariable",
    "supportsSetExpression",
    "supportsGotoTargetsRequest",
    "supportsDelayedStackTraceLoading",
    "supportsClipboardContext",
    "supportsExceptionInfoRequest",
    "supportsTerminateRequest",
    "supportTerminateDebuggee",
    NULL,
};

/* setExceptionBreakpoints filters: (filter id, label, on by default).
 * The ids and labels are debugpy's, so launch configurations carry over. */
static const struct {
    const char *filter, *label, *description;
    int on;
} FILTERS[] = {
    {"raised", "Raised Exceptions", "Break whenever any exception is raised.", 0},
    {"uncaught", "Uncaught Exceptions",
     "Break when the program or one of its threads ends with an unhandled exception.", 1},
    {"userUnhandled", "User Uncaught Exceptions", "Break when an exception escapes into library code.", 0},
    {NULL, NULL, NULL, 0},
};

PyObject *
DapCaps_body(void)
{
    /* Owned */
    PyObject *body = NULL, *filters = NULL, *f = NULL;

    body = PyDict_New();
    filters = PyList_New(0);
    if (!body || !filters)
        goto error;
    for (int i = 0; SUPPORTED[i]; i++)
        if (PyDict_SetItemString(body, SUPPORTED[i], Py_True) < 0)
            goto error;
    for (int i = 0; FILTERS[i].filter; i++) {
        f = Py_BuildValue("{s:s,s:s,s:s,s:O}", "filter", FILTERS[i].filter, "label", FILTERS[i].label,
                          "description", FILTERS[i].description, "default", FILTERS[i].on ? Py_True : Py_False);
        if (!f || PyList_Append(filters, f) < 0)
            goto error;
        Py_CLEAR(f);
    }
    if (PyDict_SetItemString(body, "exceptionBreakpointFilters", filters) < 0)
        goto error;
    Py_DECREF(filters);
    return body;
error:
    Py_XDECREF(f);
    Py_XDECREF(filters);
    Py_XDECREF(body);
    return NULL;
}
