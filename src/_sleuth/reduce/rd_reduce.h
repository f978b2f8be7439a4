/* rd_reduce.h — `sleuth reduce`: the delta-debugging driver and its command
 * line. Plain C; called with the GIL released. */
#ifndef SLEUTH_RD_REDUCE_H
#define SLEUTH_RD_REDUCE_H

/* Runs `sleuth reduce ARGV...` (argv[0] is the program name). Returns the
 * exit status: 0 done, 2 bad input or usage, 128+signal when interrupted. */
int rd_reduce_main(int argc, char **argv);

#endif
