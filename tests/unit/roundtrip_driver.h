/* Runs a test script of tests/scripts/ against the htc next to this test program
 * (build/tests/test_x -> build/htc), from the source root, and maps its exit
 * status: 0 pass, 77 skip, anything else fail. */
#ifndef HTC_ROUNDTRIP_DRIVER_H
#define HTC_ROUNDTRIP_DRIVER_H

/* script: file name in tests/scripts; extra: more arguments (trusted, unquoted) */
static inline int script_run(const char *script, const char *extra, const char *name)
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
    char path[256];
    snprintf(path, sizeof(path), "tests/scripts/%s", script);
    if (access(path, R_OK) != 0) {
        printf("%s: run from the source root (%s not found); skipped\n", name, path);
        return 77;
    }
    if (system("python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("%s: python3 with numpy is missing; skipped\n", name);
        return 77;
    }
    char cmd[PATH_MAX + 512];
    snprintf(cmd, sizeof(cmd), "python3 %s --htc '%s/htc' %s", path, exe, extra);
    fflush(stdout);
    const int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) {
        printf("%s: the test script did not run\n", name);
        return 1;
    }
    const int code = WEXITSTATUS(rc);
    return code == 0 ? 0 : code == 77 ? 77 : 1;
}

static inline int roundtrip_run(const char *suite, const char *name)
{
    /* sanitizer builds run slower: fewer cases */
    const char *cases = getenv("HTC_ROUNDTRIP_CASES");
    if (!cases || strspn(cases, "0123456789") != strlen(cases) || strlen(cases) > 8)
        cases = getenv("HTC_SANITIZED") ? "40" : "150";
    char extra[128];
    snprintf(extra, sizeof(extra), "--suite %s --cases %s", suite, cases);
    return script_run("roundtrip_codecs.py", extra, name);
}

#endif
