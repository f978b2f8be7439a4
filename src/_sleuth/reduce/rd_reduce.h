/* rd_reduce.h — `sleuth reduce`: the delta-debugging driver and its command
 * line. Plain C; called with the GIL released. */
#ifndef SLEUTH_RD_REDUCE_H
#define SLEUTH_RD_REDUCE_H

#include <stddef.h>

/* 1 when P parses as Python source, 0 when not, -1 when it cannot tell.
 * Supplied by the module (it needs the interpreter's parser); may be NULL. */
typedef int (*RdParseFn)(const unsigned char *p, size_t n);

/* Runs `sleuth reduce ARGV...` (argv[0] is the program name). Returns the
 * exit status: 0 done, 2 bad input or usage, 128+signal when interrupted. */
int rd_reduce_main(int argc, char **argv, RdParseFn python_parses);

#endif
