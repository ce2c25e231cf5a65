// posix_spawn for the test suites (Foundation's Process reads past a dirent
// buffer while closing descriptors in the child on this toolchain, which
// ASan reports and which has crashed a plain test run once).
#pragma once
#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (NULL-terminated; `envp` NULL: this
/// process's environment) in `directory` (NULL: the current one), standard
/// input, output and error redirected to the given files (NULL: /dev/null;
/// output files are created or truncated), every other descriptor closed,
/// no signal blocked and SIGPIPE at its default. Returns 0 or an errno value.
int ga_test_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[], const char *directory,
                  const char *stdin_path, const char *stdout_path, const char *stderr_path);
