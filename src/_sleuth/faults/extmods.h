/* extmods.h — faulthandler's "Extension modules: ... (total: N)" line, signal-safely.
 *
 * After the stacks of a fatal error, faulthandler (3.10+) lists the extension
 * modules of sys.modules that are not in sys.stdlib_module_names: the ones
 * most likely to have caused the crash. It reads sys.modules from the signal
 * handler as it is at that moment, without a lock. So does this file, with
 * the same rules, and the same text:
 *
 *   - a module counts when its sys.modules key is a str and its value is a
 *     module object whose PyModuleDef has a method table (CPython's
 *     _PyModule_IsExtension): built-in and C extension modules, not modules
 *     written in Python;
 *   - a name found in sys.stdlib_module_names is left out when that
 *     attribute is a frozenset at the time of the crash (so a program that
 *     empties it sees every extension);
 *   - "\nExtension modules: a, b (total: 2)\n" in sys.modules' order; nothing
 *     when none counts.
 *
 * Contract (fatal.h's): no allocation, no lock, no Python API that touches
 * objects. The dicts, the frozenset, the module objects and the strings are
 * read through Faults_safe_read() with the layouts of the running version's
 * internal headers, and each object's type is checked after the copy, so a
 * dict that another thread is changing at that instant, or memory the crash
 * corrupted, gives a shorter or missing list, never a second fault. A
 * split-table dict (never seen for sys.modules or sys.__dict__) and tables
 * of more than FAULTS_MAX_DICT_ENTRIES entries are not read.
 */
#ifndef SLEUTH_FAULTS_EXTMODS_H
#define SLEUTH_FAULTS_EXTMODS_H

#include "compat.h"
#include "out.h"

#define FAULTS_MAX_DICT_ENTRIES (1 << 20)

void Faults_dump_ext_modules(Faults_out *o, PyInterpreterState *interp);

#endif
