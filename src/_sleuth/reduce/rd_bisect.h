/* rd_bisect.h — `sleuth bisect`: binary search over git commits or over the
 * lines of a list file. Plain C; called with the GIL released. */
#ifndef SLEUTH_RD_BISECT_H
#define SLEUTH_RD_BISECT_H

/* Returns 0 when a first bad item was found, 1 when the search could only
 * narrow it to a range of skipped items, 2 for usage or bad input, 128+signal
 * when interrupted. */
int rd_bisect_main(int argc, char **argv);

#endif
