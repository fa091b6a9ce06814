/* Consumer groups of the file log (groups.h). A group file is text:
 *   attribd-groups 1
 *   TOPIC PARTITION NEXT      (one line per committed position)
 *   end CRC                   (CRC32C, hex, of every byte before this line)
 * The rename makes a commit atomic; the CRC catches damage done to the file afterwards. */
#include "log/groups.h"
#include "log/segment.h"

#include "attribd/common.h"
#include "attribd/crc32c.h"
#include "attribd/logging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP_MAGIC "attribd-groups 1\n"

typedef struct gpos {
    char *topic;
    int partition;
    uint64_t next;
} gpos;

typedef struct group {
    char *name;
    gpos *pos;
    size_t n, cap;
} group;

struct atd_groups {
    pthread_mutex_t mu; /* guards everything; held across a commit's file write to order them */
    char *dir;
    group *groups;
    size_t n, cap;
};

int atd_log_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 200 || name[0] == '.' || (name[0] == '_' && name[1] == '_')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static group *group_find(atd_groups *g, const char *name, int create)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->groups[i].name, name) == 0) return &g->groups[i];
    if (!create) return NULL;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        group *ng = realloc(g->groups, cap * sizeof *ng);
        if (!ng) return NULL;
        g->groups = ng;
        g->cap = cap;
    }
    group *gr = &g->groups[g->n];
    memset(gr, 0, sizeof *gr);
    if (!(gr->name = strdup(name))) return NULL;
    g->n++;
    return gr;
}

static gpos *gpos_find(group *gr, const char *topic, int partition, int create)
{
    for (size_t i = 0; i < gr->n; i++)
        if (gr->pos[i].partition == partition && strcmp(gr->pos[i].topic, topic) == 0)
            return &gr->pos[i];
    if (!create) return NULL;
    if (gr->n == gr->cap) {
        size_t cap = gr->cap ? gr->cap * 2 : 8;
        gpos *np = realloc(gr->pos, cap * sizeof *np);
        if (!np) return NULL;
        gr->pos = np;
        gr->cap = cap;
    }
    gpos *p = &gr->pos[gr->n];
    if (!(p->topic = strdup(topic))) return NULL;
    p->partition = partition;
    p->next = 0;
    gr->n++;
    return p;
}

/* Parses one group file's text (NUL-terminated, len bytes) into gr. */
static int group_parse(group *gr, char *text, size_t len)
{
    char *end = NULL;
    size_t ml = strlen(GROUP_MAGIC);
    if (len < ml || memcmp(text, GROUP_MAGIC, ml) != 0) return ATD_ECORRUPT;
    /* the trailer is the last line */
    char *last = len >= 2 ? memrchr(text, '\n', len - 1) : NULL;
    if (!last || text[len - 1] != '\n') return ATD_ECORRUPT;
    last++;
    unsigned crc;
    if (sscanf(last, "end %8x", &crc) != 1 || atd_crc32c(0, text, (size_t)(last - text)) != crc)
        return ATD_ECORRUPT;
    *last = 0;
    for (char *line = text + ml; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end) return ATD_ECORRUPT;
        *end = 0;
        char topic[256];
        int partition;
        uint64_t next;
        if (sscanf(line, "%255s %d %" SCNu64, topic, &partition, &next) != 3 ||
            !atd_log_name_ok(topic) || partition < 0)
            return ATD_ECORRUPT;
        gpos *p = gpos_find(gr, topic, partition, 1);
        if (!p) return -ENOMEM;
        p->next = next;
    }
    return 0;
}

static int group_load(atd_groups *g, const char *file)
{
    char path[4096];
    size_t nl = strlen(file) - 4; /* minus ".grp" */
    char name[256];
    if (nl == 0 || nl >= sizeof name) return 0;
    memcpy(name, file, nl);
    name[nl] = 0;
    if (!atd_log_name_ok(name)) return 0;
    snprintf(path, sizeof path, "%s/%s", g->dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    char *text = malloc(1 << 20);
    size_t len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!text) return -ENOMEM;
    text[len] = 0;
    group *gr = group_find(g, name, 1);
    int rc = gr ? group_parse(gr, text, len) : -ENOMEM;
    free(text);
    if (rc == ATD_ECORRUPT) ATD_ERROR("log: consumer group file %s is damaged", path);
    return rc;
}

int atd_groups_open(const char *dir, atd_groups **out)
{
    atd_groups *g = calloc(1, sizeof *g);
    int rc = 0;
    if (!g || !(g->dir = strdup(dir))) {
        free(g);
        return -ENOMEM;
    }
    pthread_mutex_init(&g->mu, NULL);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        goto fail;
    }
    DIR *d = opendir(dir);
    if (!d) {
        rc = -errno;
        goto fail;
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".grp") == 0)
            rc = group_load(g, de->d_name);
        else if (l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0) {
            char p[4096]; /* a commit that crashed before its rename */
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    }
    closedir(d);
    if (rc < 0) goto fail;
    *out = g;
    return 0;
fail:
    atd_groups_free(g);
    return rc;
}

void atd_groups_free(atd_groups *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->groups[i].n; j++) free(g->groups[i].pos[j].topic);
        free(g->groups[i].pos);
        free(g->groups[i].name);
    }
    free(g->groups);
    free(g->dir);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

static int group_write(atd_groups *g, const group *gr)
{
    size_t cap = 64 + gr->n * 240, len = 0;
    char *text = malloc(cap);
    char tmp[4096], path[4096];
    if (!text) return -ENOMEM;
    len += (size_t)snprintf(text, cap, "%s", GROUP_MAGIC);
    for (size_t i = 0; i < gr->n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s %d %" PRIu64 "\n", gr->pos[i].topic,
                                gr->pos[i].partition, gr->pos[i].next);
    len += (size_t)snprintf(text + len, cap - len, "end %08x\n", atd_crc32c(0, text, len));
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", g->dir, gr->name);
    snprintf(path, sizeof path, "%s/%s.grp", g->dir, gr->name);
    int rc = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = atd_pwrite_full(fd, text, len, 0);
    if (rc == 0 && fdatasync(fd) < 0) rc = -errno;
    if (fd >= 0) close(fd);
    if (rc == 0 && rename(tmp, path) < 0) rc = -errno;
    if (rc == 0) rc = atd_fsync_dir(g->dir);
    free(text);
    if (rc < 0) ATD_ERROR("log: saving consumer group %s: %s", path, atd_strerror(rc));
    return rc;
}

int atd_groups_commit(atd_groups *g, const char *group_name, const char *topic, int partition,
                      uint64_t next)
{
    if (!atd_log_name_ok(group_name) || !atd_log_name_ok(topic) || partition < 0)
        return ATD_EINVAL;
    pthread_mutex_lock(&g->mu);
    int rc = -ENOMEM;
    group *gr = group_find(g, group_name, 1);
    gpos *p = gr ? gpos_find(gr, topic, partition, 0) : NULL;
    int created = 0;
    if (gr && !p && (p = gpos_find(gr, topic, partition, 1))) created = 1;
    if (p) {
        uint64_t old = p->next;
        p->next = next;
        rc = group_write(g, gr);
        if (rc < 0 && created) { /* what is in memory is what is on disk */
            free(p->topic);
            gr->n--;
        } else if (rc < 0) {
            p->next = old;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

int atd_groups_get(atd_groups *g, const char *group_name, const char *topic, int partition,
                   uint64_t *next)
{
    int rc = ATD_ENOTFOUND;
    pthread_mutex_lock(&g->mu);
    group *gr = group_find(g, group_name, 0);
    gpos *p = gr ? gpos_find(gr, topic, partition, 0) : NULL;
    if (p) {
        *next = p->next;
        rc = 0;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}
