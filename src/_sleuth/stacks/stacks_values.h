/* stacks_values.h — safe, bounded reprs of a remote object for --locals.
 *
 * Only values whose layout is simple and known are shown in full: None,
 * bool, int, float, str, bytes. Anything else is "<TYPE object at 0x...>",
 * with TYPE read from the type's tp_name. Nothing is ever called in the
 * target; the local interpreter formats floats and string reprs from the
 * copied data only.
 */
#ifndef SLEUTH_STACKS_VALUES_H
#define SLEUTH_STACKS_VALUES_H

#include <stdint.h>

struct stacks_snapshot;

#define STACKS_REPR_MAX_STR 200     /* characters of a str shown */
#define STACKS_REPR_MAX_BYTES 100   /* bytes of a bytes shown */

/* A newly allocated UTF-8 repr, or NULL on memory exhaustion. `cell`: the
 * slot belongs to a cell or free variable, so a cell object is looked through. */
char *stacks_values_repr(struct stacks_snapshot *s, uint64_t obj, int cell);

#endif
