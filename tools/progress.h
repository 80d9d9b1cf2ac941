/* htc command line: a one-line progress bar on stderr, drawn only on a terminal. */
#ifndef HTC_TOOLS_PROGRESS_H
#define HTC_TOOLS_PROGRESS_H

#include <stddef.h>

typedef struct HtcProgress {
    int enabled;        /* stderr is a terminal */
    size_t total;
    double start;       /* seconds */
    double last_draw;
    unsigned columns;   /* terminal width */
} HtcProgress;

/* Starts a bar of total items; disabled (all calls do nothing) unless stderr
 * is a terminal or force is set. */
void htc_progress_start(HtcProgress *p, size_t total, int force);
/* Shows done items of total and the current item's name; redraws at most
 * about 20 times a second, always for the last item. */
void htc_progress_update(HtcProgress *p, size_t done, const char *name);
/* Prints a message above the bar (a failure, say) without breaking it. */
void htc_progress_message(HtcProgress *p, const char *message);
/* Clears the bar and ends the line. */
void htc_progress_end(HtcProgress *p);

#endif
