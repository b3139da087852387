/* bubblewrap's --info-fd and --json-status-fd: its own JSON objects, not
 * paddock's records. */
#define _GNU_SOURCE
#include "bwrap_status.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>


static void write_all(int fd, const char *text, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        len -= (size_t)n;
    }
}

/* bwrap's info object: the child's pid and the ids of the namespaces it
 * created (the user namespace's is left out, as bwrap does). */
void bwrap_status_started(const struct plan *plan, pid_t pid) {
    if (plan->info_fd < 0 && plan->json_status_fd < 0) return;
    static const struct {
        const char *name;
        int flag;
    } namespaces[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
                      {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"uts", CLONE_NEWUTS}};
    char info[1024], json[1024];
    int info_len = snprintf(info, sizeof info, "{\n    \"child-pid\": %d", (int)pid);
    int json_len = snprintf(json, sizeof json, "{ \"child-pid\": %d", (int)pid);
    for (size_t k = 0; k < sizeof namespaces / sizeof namespaces[0]; k++) {
        if (!(plan->clone_flags & namespaces[k].flag) || plan->landlock_abi != 0) continue;
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, namespaces[k].name);
        if (stat(path, &st) < 0) continue;
        info_len += snprintf(info + info_len, sizeof info - (size_t)info_len, ",\n    \"%s-namespace\": %ju",
                             namespaces[k].name, (uintmax_t)st.st_ino);
        json_len += snprintf(json + json_len, sizeof json - (size_t)json_len, ", \"%s-namespace\": %ju",
                             namespaces[k].name, (uintmax_t)st.st_ino);
    }
    info_len += snprintf(info + info_len, sizeof info - (size_t)info_len, "\n}\n");
    json_len += snprintf(json + json_len, sizeof json - (size_t)json_len, " }\n");
    if (plan->info_fd >= 0) {
        write_all(plan->info_fd, info, (size_t)info_len);
        close(plan->info_fd);
    }
    if (plan->json_status_fd >= 0) write_all(plan->json_status_fd, json, (size_t)json_len);
}

void bwrap_status_exited(const struct plan *plan, int exit_code) {
    if (plan->json_status_fd < 0) return;
    char json[64];
    int len = snprintf(json, sizeof json, "{ \"exit-code\": %d }\n", exit_code);
    write_all(plan->json_status_fd, json, (size_t)len);
}
