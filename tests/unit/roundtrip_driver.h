/* Runs tests/scripts/roundtrip_codecs.py for one suite against the htc next to
 * this test program (build/tests/test_x -> build/htc), from the source root,
 * and maps its exit status: 0 pass, 77 skip, anything else fail. */
#ifndef HTC_ROUNDTRIP_DRIVER_H
#define HTC_ROUNDTRIP_DRIVER_H

static int roundtrip_run(const char *suite, const char *name)
{
    char exe[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        printf("%s: cannot find my own path; skipped\n", name);
        return 77;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0; /* build/tests */
    slash = strrchr(exe, '/');
    if (slash)
        *slash = 0; /* build */
    if (access("tests/scripts/roundtrip_codecs.py", R_OK) != 0) {
        printf("%s: run from the source root (tests/scripts/roundtrip_codecs.py not found); skipped\n",
               name);
        return 77;
    }
    if (system("python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("%s: python3 with numpy is missing; skipped\n", name);
        return 77;
    }
    /* sanitizer builds run slower: fewer cases */
    const char *cases = getenv("HTC_ROUNDTRIP_CASES");
    if (!cases)
        cases = getenv("HTC_SANITIZED") ? "40" : "150";
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof(cmd), "python3 tests/scripts/roundtrip_codecs.py --suite %s --htc '%s/htc' --cases %s",
             suite, exe, cases);
    fflush(stdout);
    const int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) {
        printf("%s: the round-trip script did not run\n", name);
        return 1;
    }
    const int code = WEXITSTATUS(rc);
    return code == 0 ? 0 : code == 77 ? 77 : 1;
}

#endif
