/* The `apps:` section: ATTRIBUTION.md §2 settings per app, with their exact ranges, plus keys,
 * store URL, postbacks and push endpoints. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attribd/engine.h"
#include "attribd/ip.h"
#include "core/config_internal.h"

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* Event names of postbacks and push, one bit (1u << atd_result_type) each. */
static const struct {
    const char *name;
    atd_result_type type;
} event_names[] = {
    {"install", ATD_RES_INSTALL},
    {"reinstall", ATD_RES_REINSTALL},
    {"re-attribution", ATD_RES_REATTRIBUTION},
    {"session", ATD_RES_SESSION},
    {"re-engagement", ATD_RES_REENGAGEMENT},
    {"inapp", ATD_RES_INAPP},
};

int cfg_events(cfg_ctx *c, yaml_node_t *n, const char *path, unsigned *out)
{
    yaml_node_item_t *items;
    size_t count;
    if (cfg_list(c, n, path, &items, &count) != 0) return -1;
    if (count == 0)
        return cfg_fail(c, n, path,
                        "needs a list of events (install, reinstall, re-attribution, session, "
                        "re-engagement, inapp)");
    unsigned bits = 0;
    for (size_t i = 0; i < count; i++) {
        char ip[CFG_PATH_MAX];
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        yaml_node_t *e = cfg_node(c, items[i]);
        char *name;
        if (cfg_string(c, e, ip, &name) != 0) return -1;
        size_t k = 0;
        while (k < sizeof event_names / sizeof event_names[0] && strcmp(event_names[k].name, name))
            k++;
        if (k == sizeof event_names / sizeof event_names[0])
            return cfg_fail(c, e, ip,
                            "\"%.60s\" is not an event (install, reinstall, re-attribution, "
                            "session, re-engagement, inapp)",
                            name);
        bits |= 1u << event_names[k].type;
    }
    *out = bits;
    return 0;
}

static int parse_blocked_ips(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    atd_app_config *app = field;
    yaml_node_item_t *items;
    size_t count;
    if (cfg_list(c, n, path, &items, &count) != 0) return -1;
    app->blocked_ips = count ? atd_arena_alloc(c->arena, count * sizeof *app->blocked_ips) : NULL;
    for (size_t i = 0; i < count; i++) {
        char ip[CFG_PATH_MAX];
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        yaml_node_t *e = cfg_node(c, items[i]);
        char *text;
        if (cfg_string(c, e, ip, &text) != 0) return -1;
        if (atd_cidr_parse(text, strlen(text), &app->blocked_ips[i]) != 0)
            return cfg_fail(c, e, ip, "\"%.60s\" is not an IP address or CIDR block", text);
    }
    app->n_blocked_ips = count;
    return 0;
}

static int parse_blocked_sites(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    atd_app_config *app = field;
    yaml_node_item_t *items;
    size_t count;
    if (cfg_list(c, n, path, &items, &count) != 0) return -1;
    app->blocked_sites =
        count ? atd_arena_alloc(c->arena, count * sizeof *app->blocked_sites) : NULL;
    for (size_t i = 0; i < count; i++) {
        char ip[CFG_PATH_MAX];
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        yaml_node_t *e = cfg_node(c, items[i]);
        if (cfg_string(c, e, ip, &app->blocked_sites[i]) != 0) return -1;
        const char *s = app->blocked_sites[i], *slash = strchr(s, '/');
        if (!slash || slash == s || slash[1] == '\0')
            return cfg_fail(c, e, ip, "\"%.60s\" is not media_source/site_id", s);
    }
    app->n_blocked_sites = count;
    return 0;
}

static int parse_events(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    return cfg_events(c, n, path, field);
}

static const cfg_key postback_keys[] = {
    CFG_K("media_source", CFG_STRING, offsetof(atd_postback_config, media_source), 0, 0),
    CFG_FN("events", offsetof(atd_postback_config, events), parse_events),
    CFG_K("url", CFG_URL, offsetof(atd_postback_config, url), 0, 0),
};

static const cfg_key push_keys[] = {
    CFG_K("url", CFG_URL, offsetof(atd_push_config, url), 0, 0),
    CFG_FN("events", offsetof(atd_push_config, events), parse_events),
};

/* A list of maps, each checked against keys, all of them required. */
static int parse_list_of(cfg_ctx *c, yaml_node_t *n, const char *path, const cfg_key *keys,
                         size_t nkeys, size_t item_size, void **out, size_t *out_n)
{
    yaml_node_item_t *items;
    size_t count;
    if (cfg_list(c, n, path, &items, &count) != 0) return -1;
    char *arr = count ? atd_arena_alloc(c->arena, count * item_size) : NULL;
    if (arr) memset(arr, 0, count * item_size);
    for (size_t i = 0; i < count; i++) {
        char ip[CFG_PATH_MAX];
        snprintf(ip, sizeof ip, "%s[%zu]", path, i);
        yaml_node_t *e = cfg_node(c, items[i]);
        unsigned char seen[8] = {0};
        if (!e || e->type != YAML_MAPPING_NODE)
            return cfg_fail(c, e, ip, "expected a map, got %s", cfg_node_kind(e));
        if (cfg_section(c, e, ip, keys, nkeys, arr + i * item_size, seen) != 0) return -1;
        for (size_t k = 0; k < nkeys; k++)
            if (!seen[k]) return cfg_fail(c, e, ip, "missing key \"%s\"", keys[k].name);
    }
    *out = arr;
    *out_n = count;
    return 0;
}

static int parse_postbacks(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    atd_app_config *app = field;
    void *arr;
    if (parse_list_of(c, n, path, postback_keys, sizeof postback_keys / sizeof postback_keys[0],
                      sizeof(atd_postback_config), &arr, &app->n_postbacks) != 0)
        return -1;
    app->postbacks = arr;
    return 0;
}

static int parse_push(cfg_ctx *c, yaml_node_t *n, const char *path, void *field)
{
    atd_app_config *app = field;
    void *arr;
    if (parse_list_of(c, n, path, push_keys, sizeof push_keys / sizeof push_keys[0],
                      sizeof(atd_push_config), &arr, &app->n_push) != 0)
        return -1;
    app->push = arr;
    return 0;
}

#define APP(f) offsetof(atd_app_config, f)
/* ATTRIBUTION.md §2: the ranges are the contract; defaults are in app_defaults(). */
static const cfg_key app_keys[] = {
    CFG_DUR("click_lookback", APP(click_lookback_ms), HOUR, 30 * DAY, NULL),
    CFG_DUR("view_lookback", APP(view_lookback_ms), HOUR, 24 * HOUR, "1h-24h"),
    CFG_DUR("probabilistic_window", APP(probabilistic_window_ms), 0, 24 * HOUR, "0-24h"),
    CFG_DUR("reattribution_window", APP(reattribution_window_ms), DAY, 730 * DAY, NULL),
    CFG_DUR("reengagement_window", APP(reengagement_window_ms), DAY, 90 * DAY, NULL),
    CFG_DUR("inactivity_period", APP(inactivity_period_ms), 0, 30 * DAY, NULL),
    CFG_DUR("min_ctit", APP(min_ctit_ms), 0, HOUR, NULL),
    CFG_K("click_cap", CFG_INT, APP(click_cap), 0, 1000),
    CFG_FN("blocked_ips", 0, parse_blocked_ips),
    CFG_FN("blocked_sites", 0, parse_blocked_sites),
    CFG_K("store_url", CFG_URL, APP(store_url), 0, 0),
    CFG_K("sdk_key", CFG_STRING, APP(sdk_key), 0, 0),
    CFG_K("api_token", CFG_STRING, APP(api_token), 0, 0),
    CFG_FN("postbacks", 0, parse_postbacks),
    CFG_FN("push", 0, parse_push),
};

static void app_defaults(atd_app_config *a)
{
    memset(a, 0, sizeof *a);
    a->click_lookback_ms = 7 * DAY;
    a->view_lookback_ms = 24 * HOUR;
    a->probabilistic_window_ms = 24 * HOUR;
    a->reattribution_window_ms = 90 * DAY;
    a->reengagement_window_ms = 30 * DAY;
    a->inactivity_period_ms = 0;
    a->min_ctit_ms = 10 * SEC;
    a->click_cap = 0;
}

/* App ids appear in URL paths (/c/{app}) and in keys of the stores, so they are kept to a safe
 * alphabet: Android package names and iOS "id123" ids both fit. */
static int app_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 200) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

int cfg_apps(cfg_ctx *c, yaml_node_t *n, atd_config *cfg)
{
    cfg->apps = NULL;
    cfg->n_apps = 0;
    if (cfg_is_null(n)) return 0;
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(c, n, "apps", "expected a map of app id to settings, got %s",
                        cfg_node_kind(n));
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count == 0) return 0;
    cfg->apps = atd_arena_alloc(c->arena, count * sizeof *cfg->apps);
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE)
            return cfg_fail(c, k ? k : n, "apps", "app ids must be text, got %s",
                            cfg_node_kind(k));
        const char *id = (const char *)k->data.scalar.value;
        size_t idlen = k->data.scalar.length;
        char path[CFG_PATH_MAX];
        snprintf(path, sizeof path, "apps.%.*s", (int)(idlen > 200 ? 200 : idlen), id);
        if (!app_id_ok(id, idlen))
            return cfg_fail(c, k, path,
                            "an app id is 1-200 letters, digits, '.', '_' or '-'");
        for (size_t j = 0; j < i; j++)
            if (strlen(cfg->apps[j].app_id) == idlen && memcmp(cfg->apps[j].app_id, id, idlen) == 0)
                return cfg_fail(c, k, path, "duplicate app");
        atd_app_config *app = &cfg->apps[i];
        app_defaults(app);
        app->app_id = atd_arena_strndup(c->arena, id, idlen);
        cfg->n_apps = i + 1;
        if (cfg_section(c, v, path, app_keys, sizeof app_keys / sizeof app_keys[0], app, NULL) != 0)
            return -1;
    }
    return 0;
}
