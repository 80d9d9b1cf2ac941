/* htc command line: progress bar for multi-file decodes. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void htc_progress_start(HtcProgress *p, size_t total, int force)
{
    memset(p, 0, sizeof(*p));
    p->enabled = force || isatty(STDERR_FILENO);
    p->total = total;
    p->start = now_s();
    p->last_draw = -1.0;
    p->columns = 80;
    struct winsize ws;
    if (p->enabled && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        p->columns = ws.ws_col;
}

void htc_progress_update(HtcProgress *p, size_t done, const char *name)
{
    if (!p->enabled)
        return;
    const double t = now_s();
    if (done < p->total && p->last_draw >= 0 && t - p->last_draw < 0.05)
        return;
    p->last_draw = t;
    const unsigned bar = 24;
    const unsigned filled = p->total ? (unsigned)((double)bar * (double)done / (double)p->total) : bar;
    char line[512];
    int n = snprintf(line, sizeof(line), "\r[");
    for (unsigned i = 0; i < bar; i++)
        line[n++] = i < filled ? '#' : '.';
    const double el = t - p->start;
    n += snprintf(line + n, sizeof(line) - (size_t)n, "] %zu/%zu %5.1f/s ", done, p->total,
                  el > 0 ? (double)done / el : 0.0);
    /* the name fills what is left of the line, cut from the left */
    const size_t room = p->columns > (unsigned)n + 1 ? p->columns - (unsigned)n - 1 : 0;
    const char *s = name ? name : "";
    size_t len = strlen(s);
    if (len > room)
        s += len - room, len = room;
    if (len > sizeof(line) - (size_t)n - 8)
        len = sizeof(line) - (size_t)n - 8;
    memcpy(line + n, s, len);
    n += (int)len;
    memcpy(line + n, "\033[K", 4); /* erase the rest of the line */
    fputs(line, stderr);
    fflush(stderr);
}

void htc_progress_message(HtcProgress *p, const char *message)
{
    if (p->enabled)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%s\n", message);
    p->last_draw = -1.0; /* redraw the bar on the next update */
}

void htc_progress_end(HtcProgress *p)
{
    if (!p->enabled)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->enabled = 0;
}
