/* Fingerprints (ATTRIBUTION.md §3). The two user-agent rules are written as the regular
 * expressions of the spec say, by hand: leftmost match, greedy digits, a lazy `.*?` that (like
 * `.` in every regex engine) does not cross a newline. Linear time on any input. */
#include "attribution/fingerprint.h"
#include "core/hash.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Appends the decimal digits d[0..n) without leading zeros ("0" when all are zeros). */
static size_t put_number(char *out, const char *d, size_t n)
{
    while (n > 1 && d[0] == '0') {
        d++;
        n--;
    }
    memcpy(out, d, n);
    return n;
}

/* "major.minor" into the arena; minor may be empty (→ "0"). */
static atd_str make_version(atd_arena *a, const char *maj, size_t majn, const char *min,
                            size_t minn)
{
    char *p = atd_arena_alloc(a, majn + minn + 3);
    size_t n = put_number(p, maj, majn);
    p[n++] = '.';
    if (minn) n += put_number(p + n, min, minn);
    else p[n++] = '0';
    return (atd_str){p, n};
}

/* Trimmed (spaces, tabs) and lower-cased copy of s[0..n) into the arena. */
static atd_str make_model(atd_arena *a, const char *s, size_t n)
{
    while (n && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    char *p = atd_arena_alloc(a, n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = lower(s[i]);
    return (atd_str){p, n};
}

static int starts(const char *s, size_t n, size_t i, const char *lit, size_t litn)
{
    return n - i >= litn && memcmp(s + i, lit, litn) == 0;
}

/* The first lit (litn >= 1) in s[0..n), or NULL: memchr for its first byte, then a compare.
 * Cheaper than memmem for the short literals and strings here (memmem prepares a search). */
static const char *find_lit(const char *s, size_t n, const char *lit, size_t litn)
{
    const char *end = s + n;
    while ((size_t)(end - s) >= litn) {
        const char *hit = memchr(s, lit[0], (size_t)(end - s) - litn + 1);
        if (!hit) return NULL;
        if (memcmp(hit + 1, lit + 1, litn - 1) == 0) return hit;
        s = hit + 1;
    }
    return NULL;
}

/* The text up to the next "; " is a locale: "xx", or "xx-yy" / "xx_yy" (letters, any case). */
static int is_locale(const char *s, size_t n)
{
    if (n == 2) return is_letter(s[0]) && is_letter(s[1]);
    if (n == 5)
        return is_letter(s[0]) && is_letter(s[1]) && (s[2] == '-' || s[2] == '_') &&
               is_letter(s[3]) && is_letter(s[4]);
    return 0;
}

/* Android: `Android (\d+)(\.(\d+))?(\.\d+)*` then "; ", an optional locale, the model.
 * Returns -1 when the pattern does not match at all (the iOS rule may then be tried), 0 when it
 * matched but gave no fingerprint, 1 with a fingerprint. */
static int fp_android(const char *s, size_t n, atd_arena *a, atd_fp *out)
{
    size_t i = 0;
    for (;; i++) {
        const char *hit = i < n ? find_lit(s + i, n - i, "Android ", 8) : NULL;
        if (!hit) return -1;
        i = (size_t)(hit - s);
        if (i + 8 < n && is_digit(s[i + 8])) break;
    }
    size_t p = i + 8, maj = p;
    while (p < n && is_digit(s[p])) p++;
    size_t majn = p - maj, min = p, minn = 0;
    if (p + 1 < n && s[p] == '.' && is_digit(s[p + 1])) {
        min = ++p;
        while (p < n && is_digit(s[p])) p++;
        minn = p - min;
    }
    while (p + 1 < n && s[p] == '.' && is_digit(s[p + 1])) {
        p++;
        while (p < n && is_digit(s[p])) p++;
    }
    if (!starts(s, n, p, "; ", 2)) return 0;
    p += 2;
    /* a locale is skipped only when a "; " follows it */
    const char *next = find_lit(s + p, n - p, "; ", 2);
    if (next && is_locale(s + p, (size_t)(next - (s + p)))) p = (size_t)(next - s) + 2;
    size_t e = p;
    while (e < n && s[e] != ')' && s[e] != ';' && !starts(s, n, e, " Build/", 7)) e++;
    atd_str model = make_model(a, s + p, e - p);
    if (model.n == 0) return 0;
    out->os = ATD_OS_ANDROID;
    out->version = make_version(a, s + maj, majn, s + min, minn);
    out->model = model;
    return 1;
}

/* iOS: `(iPhone|iPad|iPod).*? OS (\d+)(_(\d+))?`, leftmost match. */
static int fp_ios(const char *s, size_t n, atd_arena *a, atd_fp *out)
{
    static const struct {
        const char *lit;
        size_t n;
    } kinds[] = {{"iPhone", 6}, {"iPad", 4}, {"iPod", 4}};
    size_t i = 0;
    while (i < n) {
        int kind = -1;
        if (s[i] == 'i')
            for (int k = 0; k < 3; k++)
                if (starts(s, n, i, kinds[k].lit, kinds[k].n)) kind = k;
        if (kind < 0) {
            i++;
            continue;
        }
        /* the lazy `.*?`: the first " OS <digit>" that is not past a newline */
        size_t k = i + kinds[kind].n;
        while (k < n && s[k] != '\n' && !(starts(s, n, k, " OS ", 4) && k + 4 < n &&
                                          is_digit(s[k + 4])))
            k++;
        if (k >= n || s[k] == '\n') {
            /* every start before this point would scan the same text and fail too */
            i = k + 1;
            continue;
        }
        size_t p = k + 4, maj = p;
        while (p < n && is_digit(s[p])) p++;
        size_t majn = p - maj, min = p, minn = 0;
        if (p + 1 < n && s[p] == '_' && is_digit(s[p + 1])) {
            min = ++p;
            while (p < n && is_digit(s[p])) p++;
            minn = p - min;
        }
        static const char *models[] = {"iphone", "ipad", "ipod"};
        out->os = ATD_OS_IOS;
        out->version = make_version(a, s + maj, majn, s + min, minn);
        out->model = atd_str_c(models[kind]);
        return 1;
    }
    return 0;
}

int atd_fp_from_ua(atd_str ua, atd_arena *arena, atd_fp *out)
{
    memset(out, 0, sizeof *out);
    if (!ua.p || ua.n == 0) return 0;
    int r = fp_android(ua.p, ua.n, arena, out);
    if (r < 0) r = fp_ios(ua.p, ua.n, arena, out);
    if (r <= 0) memset(out, 0, sizeof *out);
    return r > 0;
}

int atd_fp_from_fields(atd_str platform, atd_str os_version, atd_str device_model,
                       atd_arena *arena, atd_fp *out)
{
    memset(out, 0, sizeof *out);
    uint8_t os;
    if (atd_str_eq_c(platform, "android")) os = ATD_OS_ANDROID;
    else if (atd_str_eq_c(platform, "ios")) os = ATD_OS_IOS;
    else return 0;
    if (!os_version.p || !device_model.p) return 0;
    /* version: the first two runs of digits */
    const char *s = os_version.p;
    size_t n = os_version.n, i = 0;
    while (i < n && !is_digit(s[i])) i++;
    if (i == n) return 0;
    size_t maj = i;
    while (i < n && is_digit(s[i])) i++;
    size_t majn = i - maj;
    while (i < n && !is_digit(s[i])) i++;
    size_t min = i;
    while (i < n && is_digit(s[i])) i++;
    size_t minn = i - min;
    atd_str model = make_model(arena, device_model.p, device_model.n);
    if (os == ATD_OS_IOS) {
        size_t k = 0;
        while (k < model.n && is_letter(model.p[k])) k++;
        model.n = k;
    }
    if (model.n == 0) return 0;
    out->os = os;
    out->version = make_version(arena, s + maj, majn, s + min, minn);
    out->model = model;
    return 1;
}

int atd_fp_of_event(const atd_event *ev, atd_arena *arena, atd_fp *out)
{
    if (ATD_EV_IS_APP(ev->type) && ev->platform.p && ev->os_version.p)
        return atd_fp_from_fields(ev->platform, ev->os_version, ev->device_model, arena, out);
    return atd_fp_from_ua(ev->user_agent, arena, out);
}

int atd_fp_from_ua_memo(atd_fp_memo *m, atd_str ua, atd_arena *arena, atd_fp *out)
{
    if (!ua.p || ua.n == 0 || ua.n > ATD_FP_MEMO_UA) return atd_fp_from_ua(ua, arena, out);
    uint64_t h = atd_hash_bytes(ua.p, ua.n);
    size_t set = (size_t)(h >> 32) & (ATD_FP_MEMO_SETS - 1);
    for (int way = 0; way < 2; way++) {
        atd_fp_memo_ent *e = &m->ent[set][way];
        if (e->ua_n == ua.n && e->hash == h && memcmp(e->ua, ua.p, ua.n) == 0) {
            m->recent[set] = (uint8_t)way;
            if (e->os == ATD_OS_NONE) {
                memset(out, 0, sizeof *out);
                return 0;
            }
            out->os = e->os;
            out->version = (atd_str){e->version, e->vn};
            out->model = (atd_str){e->model, e->mn};
            return 1;
        }
    }
    int r = atd_fp_from_ua(ua, arena, out);
    int way = !m->recent[set]; /* the one used less recently goes */
    atd_fp_memo_ent *e = &m->ent[set][way];
    if (out->version.n > sizeof e->version || out->model.n > sizeof e->model) return r;
    m->recent[set] = (uint8_t)way;
    e->hash = h;
    e->ua_n = (uint16_t)ua.n;
    memcpy(e->ua, ua.p, ua.n);
    e->os = out->os;
    e->vn = (uint8_t)out->version.n;
    e->mn = (uint8_t)out->model.n;
    if (out->version.n) memcpy(e->version, out->version.p, out->version.n);
    if (out->model.n) memcpy(e->model, out->model.p, out->model.n);
    return r;
}

int atd_fp_of_event_memo(atd_fp_memo *m, const atd_event *ev, atd_arena *arena, atd_fp *out)
{
    if (ATD_EV_IS_APP(ev->type) && ev->platform.p && ev->os_version.p)
        return atd_fp_from_fields(ev->platform, ev->os_version, ev->device_model, arena, out);
    return atd_fp_from_ua_memo(m, ev->user_agent, arena, out);
}
