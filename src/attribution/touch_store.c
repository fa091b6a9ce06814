/* Touch records and lists (see touch_store.h for the layout). */
#include "attribution/touch_store.h"

#include <openssl/sha.h>
#include <stdlib.h>

#include "attribution/codec.h"

#define w_varint atd_w_varint
#define w_strv atd_w_strv

/* Ends a record whose body was written from b->p + start + 1 (a 1-byte hole for its length:
 * records are mostly under 128 bytes) up to end: writes the length prefix there, moving the body
 * when the prefix is longer. */
static void record_close(atd_buf *b, size_t start, const uint8_t *end)
{
    size_t len = (size_t)(end - ((uint8_t *)b->p + start + 1));
    if (len < 0x80) {
        b->p[start] = (char)len;
        b->n = start + 1 + len;
        return;
    }
    uint8_t pre[10];
    size_t pn = (size_t)(w_varint(pre, len) - pre);
    b->n = start + 1 + len;
    if (pn > 3) atd_buf_reserve(b, pn - 1); /* a record over 2 MiB: make room (callers' bounds
                                                have 2 bytes to spare) */
    memmove(b->p + start + pn, b->p + start + 1, len);
    memcpy(b->p + start, pre, pn);
    b->n = start + pn + len;
}

void atd_touch_encode(const atd_touch *t, atd_buf *b)
{
    /* prefix, varints, bytes, ip, slack; 10 per string for its length */
    size_t bound = 3 + 10 * 3 + 2 + 17 + 10 + 12 * 10 + t->media_source.n + t->fp.version.n +
                   t->fp.model.n + t->adid.n + t->campaign.n + t->campaign_id.n + t->adset.n +
                   t->ad.n + t->site_id.n + t->channel.n + t->click_id.n + t->deep_link_value.n;
    atd_buf_reserve(b, bound);
    size_t start = b->n; /* the body after a 1-byte hole for its length (record_close) */
    uint8_t *w = (uint8_t *)b->p + start + 1;
    w = w_varint(w, (uint64_t)t->ts);
    w = w_varint(w, t->seq);
    *w++ = t->type;
    *w++ = t->flags;
    w = w_strv(w, t->media_source);
    w = w_varint(w, (uint64_t)t->lookback_ms);
    *w++ = (uint8_t)t->fp.os;
    if (t->fp.os) {
        w = w_strv(w, t->fp.version);
        w = w_strv(w, t->fp.model);
    }
    if (t->has_ip) {
        size_t an = t->ip.family == 4 ? 4 : 16;
        *w++ = t->ip.family;
        w = atd_w_bytes(w, t->ip.addr, an);
    } else {
        *w++ = 0;
    }
    w = w_strv(w, t->adid);
    w = w_strv(w, t->campaign);
    w = w_strv(w, t->campaign_id);
    w = w_strv(w, t->adset);
    w = w_strv(w, t->ad);
    w = w_strv(w, t->site_id);
    w = w_strv(w, t->channel);
    w = w_strv(w, t->click_id);
    w = w_strv(w, t->deep_link_value);
    record_close(b, start, w);
}

static int uuid_form(atd_str adid, uint8_t raw[16]);

void atd_touch_encode_ref(int64_t ts, uint64_t seq, uint8_t type, atd_str adid,
                          const uint8_t *uuid, atd_buf *b)
{
    /* length prefix, ts, seq (10 each at most), type, flags, form, strv (10 + n) */
    atd_buf_reserve(b, 10 + 10 + 10 + 3 + 10 + adid.n);
    size_t start = b->n;
    uint8_t *w = (uint8_t *)b->p + start + 1;
    w = w_varint(w, (uint64_t)ts);
    w = w_varint(w, seq);
    *w++ = type;
    *w++ = ATD_TF_REF | ATD_TF_SHORT;
    if (uuid || uuid_form(adid, w + 1) == 0) {
        if (uuid) memcpy(w + 1, uuid, 16);
        *w = 16;
        w += 17;
    } else {
        *w++ = 0;
        w = w_strv(w, adid);
    }
    record_close(b, start, w);
}

int atd_touch_iter_next(atd_touch_iter *it)
{
    if (it->p >= it->end) return 0;
    atd_rd r = atd_rd_init(it->p, (size_t)(it->end - it->p));
    uint64_t len = atd_get_varint(&r);
    if (r.bad || len > (uint64_t)(r.end - r.p)) return ATD_ECORRUPT;
    it->rec = r.p;
    it->rec_end = r.p + len;
    it->p = it->rec_end;
    r.end = it->rec_end;
    it->ts = (int64_t)atd_get_varint(&r);
    it->seq = atd_get_varint(&r);
    it->type = atd_get_byte(&r);
    it->flags_at = r.p;
    it->flags = atd_get_byte(&r);
    it->media_source = (it->flags & ATD_TF_SHORT) ? ATD_STR_NULL : atd_get_strv(&r);
    return r.bad ? ATD_ECORRUPT : 1;
}

int atd_touch_iter_decode(const atd_touch_iter *it, atd_touch *t)
{
    atd_rd r = atd_rd_init(it->flags_at + 1, (size_t)(it->rec_end - it->flags_at - 1));
    memset(t, 0, sizeof *t);
    t->ts = it->ts;
    t->seq = it->seq;
    t->type = it->type;
    t->flags = it->flags;
    if (it->flags & ATD_TF_SHORT) { /* a short reference: the advertising id alone */
        uint8_t form = atd_get_byte(&r);
        if (form == 16) {
            const uint8_t *raw = atd_get_bytes(&r, 16);
            t->adid = raw ? (atd_str){(const char *)raw, 16} : ATD_STR_NULL;
            t->adid_uuid = 1;
        } else {
            if (form != 0) r.bad = 1;
            t->adid = atd_get_strv(&r);
        }
        return r.bad || !t->adid.p || r.p != r.end ? ATD_ECORRUPT : 0;
    }
    t->media_source = atd_get_strv(&r);
    t->lookback_ms = (int64_t)atd_get_varint(&r);
    t->fp.os = atd_get_byte(&r);
    if (t->fp.os) {
        t->fp.version = atd_get_strv(&r);
        t->fp.model = atd_get_strv(&r);
    }
    uint8_t fam = atd_get_byte(&r);
    if (fam == 4 || fam == 6) {
        const uint8_t *a = atd_get_bytes(&r, fam == 4 ? 4 : 16);
        if (a) {
            t->has_ip = 1;
            t->ip.family = fam;
            memcpy(t->ip.addr, a, fam == 4 ? 4 : 16);
        }
    } else if (fam != 0) {
        r.bad = 1;
    }
    t->adid = atd_get_strv(&r);
    t->campaign = atd_get_strv(&r);
    t->campaign_id = atd_get_strv(&r);
    t->adset = atd_get_strv(&r);
    t->ad = atd_get_strv(&r);
    t->site_id = atd_get_strv(&r);
    t->channel = atd_get_strv(&r);
    t->click_id = atd_get_strv(&r);
    t->deep_link_value = atd_get_strv(&r);
    return r.bad ? ATD_ECORRUPT : 0;
}

/* A record's length and ts only (pass 1 of a rebuild): cheaper than atd_touch_iter_next. */
static int skim(const uint8_t **p, const uint8_t *end, int64_t *ts)
{
    atd_rd r = atd_rd_init(*p, (size_t)(end - *p));
    uint64_t len = atd_get_varint(&r);
    if (r.bad || len > (uint64_t)(r.end - r.p)) return ATD_ECORRUPT;
    const uint8_t *rec_end = r.p + len;
    r.end = rec_end;
    *ts = (int64_t)atd_get_varint(&r);
    *p = rec_end;
    return r.bad ? ATD_ECORRUPT : 1;
}

/* Pass 1 of a rebuild: the record count, and the newest ts of old's records and rec's
 * (INT64_MIN: none). */
static int list_scan(const void *old, size_t oldn, const void *rec, size_t recn, size_t *count,
                     int64_t *old_max, int64_t *rec_ts)
{
    int64_t ts;
    int r;
    *old_max = *rec_ts = INT64_MIN;
    *count = 0;
    const uint8_t *p = old, *end = (const uint8_t *)old + oldn;
    while (p < end) {
        if ((r = skim(&p, end, &ts)) < 0) return r;
        if (ts > *old_max) *old_max = ts;
        ++*count;
    }
    if (recn) {
        p = rec;
        if (skim(&p, p + recn, rec_ts) != 1 || p != (const uint8_t *)rec + recn)
            return ATD_ECORRUPT;
        ++*count;
    }
    return 0;
}

/* The ts that a long list's ages are measured from: the ATD_TOUCH_AGE_RANK-th newest of its
 * records (old's and rec's; the list has more than that many). Not the newest: one touch with
 * a far-future ts (valid, and ts need not be monotonic) would make every other look old. */
static int64_t age_reference(const void *old, size_t oldn, int64_t rec_ts, int has_rec)
{
    int64_t top[ATD_TOUCH_AGE_RANK]; /* the newest seen so far, descending */
    size_t n = 0;
    const uint8_t *p = old, *end = (const uint8_t *)old + oldn;
    for (int more = 1; more;) {
        int64_t ts;
        if (p < end) {
            if (skim(&p, end, &ts) != 1) break; /* list_scan checked the bytes already */
        } else if (has_rec) {
            ts = rec_ts;
            has_rec = 0;
        } else {
            more = 0;
            continue;
        }
        if (n == ATD_TOUCH_AGE_RANK && ts <= top[n - 1]) continue;
        size_t i = n < ATD_TOUCH_AGE_RANK ? n++ : n - 1;
        while (i > 0 && top[i - 1] < ts) {
            top[i] = top[i - 1];
            i--;
        }
        top[i] = ts;
    }
    return n ? top[n - 1] : INT64_MIN;
}

/* A short list is kept whole, the new record after the old bytes. */
static int list_kept_whole(size_t count)
{
    return count <= ATD_TOUCH_PRUNE_MIN && count <= ATD_TOUCH_LIST_MAX;
}

/* The newest ts of a list kept whole (now for an empty one). */
static int64_t whole_max(int64_t old_max, int64_t rec_ts, int64_t now)
{
    int64_t m = old_max > rec_ts ? old_max : rec_ts;
    return m == INT64_MIN ? now : m;
}

int atd_touch_list_appends(const void *old, size_t oldn, const void *rec, size_t recn,
                           int64_t now, int64_t *max_ts)
{
    int64_t old_max, rec_ts;
    size_t count;
    int r = list_scan(old, oldn, rec, recn, &count, &old_max, &rec_ts);
    if (r < 0) return r;
    if (!list_kept_whole(count)) return 0;
    *max_ts = whole_max(old_max, rec_ts, now);
    return 1;
}

int atd_touch_list_rebuild(const void *old, size_t oldn, const void *rec, size_t recn,
                           int64_t now, atd_buf *out, int64_t *max_ts)
{
    out->n = 0;
    int64_t old_max, rec_ts;
    size_t count;
    int r = list_scan(old, oldn, rec, recn, &count, &old_max, &rec_ts);
    if (r < 0) return r;
    atd_buf_reserve(out, oldn + recn);
    if (list_kept_whole(count)) {
        atd_buf_put(out, old, oldn);
        atd_buf_put(out, rec, recn);
        *max_ts = whole_max(old_max, rec_ts, now);
        return 0;
    }
    int64_t ref = age_reference(old, oldn, rec_ts, recn != 0);
    int64_t oldest_kept = ref > INT64_MIN + ATD_TOUCH_KEEP_MS ? ref - ATD_TOUCH_KEEP_MS : INT64_MIN;
    size_t skip = count > ATD_TOUCH_LIST_MAX ? count - ATD_TOUCH_LIST_MAX : 0;
    int64_t kept_max = INT64_MIN;
    atd_touch_iter it;
    atd_touch_iter_init(&it, old, oldn);
    while (atd_touch_iter_next(&it) == 1) {
        if (skip) {
            skip--;
            continue;
        }
        if (it.ts < oldest_kept) continue;
        if (it.ts > kept_max) kept_max = it.ts;
        atd_put_varint(out, (uint64_t)(it.rec_end - it.rec));
        atd_buf_put(out, it.rec, (size_t)(it.rec_end - it.rec));
    }
    if (recn) {
        atd_buf_put(out, rec, recn);
        if (rec_ts > kept_max) kept_max = rec_ts;
    }
    *max_ts = kept_max == INT64_MIN ? now : kept_max;
    return 0;
}

int atd_touch_list_find(const void *list, size_t n, uint64_t seq, atd_touch_iter *it)
{
    atd_touch_iter_init(it, list, n);
    int r;
    while ((r = atd_touch_iter_next(it)) == 1)
        if (it->seq == seq) return 1;
    return r;
}

int atd_touch_list_set_flag(void *list, size_t n, uint64_t seq, uint8_t flag)
{
    atd_touch_iter it;
    int r = atd_touch_list_find(list, n, seq, &it);
    if (r == 1) *(uint8_t *)(uintptr_t)it.flags_at |= flag;
    return r;
}

static size_t put_len(char *buf, size_t n)
{
    size_t k = 0;
    while (n >= 0x80) {
        buf[k++] = (char)(n | 0x80);
        n >>= 7;
    }
    buf[k++] = (char)n;
    return k;
}

/* kind, the id's length, the id, then the app: ids differ in their first bytes, so the kv's
 * key comparisons stop early (the app first would make every comparison walk it) */
static size_t make_key(char *buf, char kind, atd_str app, const void *id, size_t idn)
{
    if (app.n + idn + 12 <= ATD_KEY_LONG) {
        size_t k = 0;
        buf[k++] = kind;
        k += put_len(buf + k, idn);
        uint8_t *w = atd_w_bytes((uint8_t *)buf + k, id, idn);
        w = atd_w_bytes(w, app.p, app.n);
        return (size_t)((char *)w - buf);
    }
    /* too long for a kv key: the kind in lower case, then a digest of both */
    size_t n = 10 + app.n + idn;
    unsigned char *all = malloc(n);
    if (!all) abort();
    size_t k = put_len((char *)all, idn);
    memcpy(all + k, id, idn);
    memcpy(all + k + idn, app.p, app.n);
    buf[0] = (char)(kind + ('a' - 'A'));
    SHA256(all, k + app.n + idn, (unsigned char *)buf + 1);
    free(all);
    return 1 + SHA256_DIGEST_LENGTH;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 8 lower-case hex digits (a little-endian word of their bytes) into 4 bytes, all at once:
 * returns 0, or -1 when a byte is not one (the table loop below is the specification). */
static inline int hex8(uint64_t x, uint8_t *out)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    /* bytes below 0x80 only; then b >= lo shows in (b + 0x80 - lo)'s high bit, b > hi in
     * (b + 0x7f - hi)'s, without carries between bytes */
    uint64_t digit = (x + ones * (0x80 - '0')) & ~(x + ones * (0x7f - '9'));
    uint64_t alpha = (x + ones * (0x80 - 'a')) & ~(x + ones * (0x7f - 'f'));
    if ((x & high) || ((digit | alpha) & high) != high) return -1;
    /* a digit's value is its low nibble, a letter's its low nibble + 9 (bit 6 tells) */
    uint64_t v = (x & ones * 0x0f) + ((x >> 6) & ones) * 9;
    /* byte 2i = digit 2i << 4 | digit 2i+1, then the even bytes packed */
    uint64_t t = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffULL;
    t = (t | (t >> 8)) & 0x0000ffff0000ffffULL;
    t = (t | (t >> 16)) & 0xffffffffULL;
    uint32_t r = (uint32_t)t;
    memcpy(out, &r, 4);
    return 0;
}

/* The 16 bytes of a 36-byte UUID text whose dashes were checked: 0, or -1. */
static int uuid_bytes_word(const char *s, uint8_t raw[16])
{
    uint64_t w0, w3;
    uint32_t a, b;
    memcpy(&w0, s, 8);
    memcpy(&w3, s + 28, 8);
    int bad = hex8(w0, raw) | hex8(w3, raw + 12);
    memcpy(&a, s + 9, 4);
    memcpy(&b, s + 14, 4);
    bad |= hex8(a | (uint64_t)b << 32, raw + 4);
    memcpy(&a, s + 19, 4);
    memcpy(&b, s + 24, 4);
    bad |= hex8(a | (uint64_t)b << 32, raw + 8);
    return bad;
}
#else
/* hex digit value + 1 (lower case only: the normal form), 0 for other bytes */
static const uint8_t hex_value1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int uuid_bytes_word(const char *s, uint8_t raw[16])
{
    /* offsets of the 16 digit pairs */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    int bad = 0;
    for (size_t i = 0; i < 16; i++) {
        int h = hex_value1[(uint8_t)s[at[i]]] - 1;
        int l = hex_value1[(uint8_t)s[at[i] + 1]] - 1;
        bad |= h | l; /* negative once any digit is not one */
        raw[i] = (uint8_t)((unsigned)h << 4 | (unsigned)l);
    }
    return bad < 0 ? -1 : 0;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define UUID_AVX 1

/* The 16 hex digits of v (one a byte) as their values, and in *ok 0xff for each byte that
 * is a lower-case hex digit (0 for the others). */
__attribute__((target("avx"))) static inline __m128i hex16(__m128i v, __m128i *ok)
{
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0')), l = _mm_sub_epi8(v, _mm_set1_epi8('a'));
    /* unsigned d <= 9: a digit; l <= 5: a letter (a byte below '0' or 'a' wraps to >= 0xd0) */
    __m128i is_d = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i is_l = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l);
    *ok = _mm_or_si128(is_d, is_l);
    /* a letter's d is 'a' - '0' + its value - 10: 39 too much */
    return _mm_sub_epi8(d, _mm_and_si128(is_l, _mm_set1_epi8(39)));
}

/* uuid_bytes_word in SSSE3 instructions (in their AVX encoding: three operands, no register
 * copies): the 32 digits gathered from three loads by byte shuffles (the dashes dropped),
 * checked and converted 16 at a time, and each pair multiplied into one byte: ~40
 * instructions instead of ~180. */
__attribute__((target("avx"))) static int uuid_bytes_avx(const char *s, uint8_t raw[16])
{
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);        /* text 0..15 */
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16)); /* 16..31 */
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + 20)); /* 20..35 */
    /* digits 0..15: text 0-7, 9-12, 14-17; digits 16..31: text 19-22, 24-35 */
    __m128i d0 = _mm_or_si128(
        _mm_shuffle_epi8(a, _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, -1, -1)),
        _mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 1)));
    __m128i d1 = _mm_or_si128(
        _mm_shuffle_epi8(b, _mm_setr_epi8(3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, -1, -1, -1,
                                          -1)),
        _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 13,
                                          14, 15)));
    __m128i ok0, ok1;
    __m128i v0 = hex16(d0, &ok0), v1 = hex16(d1, &ok1);
    if (_mm_movemask_epi8(_mm_and_si128(ok0, ok1)) != 0xffff) return -1;
    /* byte pairs (high digit, low digit) -> high * 16 + low in 16-bit lanes, then packed */
    const __m128i mul = _mm_set1_epi16(0x0110);
    __m128i r = _mm_packus_epi16(_mm_maddubs_epi16(v0, mul), _mm_maddubs_epi16(v1, mul));
    _mm_storeu_si128((__m128i *)(void *)raw, r);
    return 0;
}

static int have_avx;
static void uuid_cpu_init(void) __attribute__((constructor));
static void uuid_cpu_init(void)
{
    __builtin_cpu_init();
    have_avx = __builtin_cpu_supports("avx");
}

void atd_touch_uuid_simd(int on)
{
    uuid_cpu_init();
    if (!on) have_avx = 0;
}
#else
void atd_touch_uuid_simd(int on) { (void)on; }
#endif

/* The 16 bytes of a 36-byte UUID text whose dashes were checked: 0, or -1. */
static inline int uuid_bytes(const char *s, uint8_t raw[16])
{
#ifdef UUID_AVX
    if (have_avx) return uuid_bytes_avx(s, raw);
#endif
    return uuid_bytes_word(s, raw);
}

/* 0 and its 16 bytes when adid is a lower-case UUID (GAID/IDFA in normal form), else -1. Most
 * events carry one: its digits are decoded all at once and checked once at the end. */
static int uuid_form(atd_str adid, uint8_t raw[16])
{
    if (adid.n == 36 && adid.p[8] == '-' && adid.p[13] == '-' && adid.p[18] == '-' &&
        adid.p[23] == '-')
        return uuid_bytes(adid.p, raw);
    return -1;
}

int atd_touch_uuid_parse(atd_str text, uint8_t raw[16]) { return uuid_form(text, raw); }

void atd_touch_uuid_text(const uint8_t raw[16], char out[36])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hex[raw[i] >> 4];
        out[k++] = hex[raw[i] & 15];
    }
}

size_t atd_key_touch_adid(char *buf, atd_str app, atd_str adid)
{
    /* make_key's layout with the UUID decoded in place (no copy); buf has room for it */
    if (uuid_form(adid, (uint8_t *)buf + 2) != 0) return make_key(buf, 'A', app, adid.p, adid.n);
    if (app.n + 16 + 12 > ATD_KEY_LONG) { /* a digest instead */
        uint8_t raw[16];
        memcpy(raw, buf + 2, 16);
        return make_key(buf, 'U', app, raw, 16);
    }
    buf[0] = 'U';
    buf[1] = 16;
    return (size_t)((char *)atd_w_bytes((uint8_t *)buf + 18, app.p, app.n) - buf);
}

size_t atd_key_touch_uuid(char *buf, atd_str app, const uint8_t raw[16])
{
    return make_key(buf, 'U', app, raw, 16);
}

const uint8_t *atd_key_uuid(const char *key, size_t klen)
{
    /* make_key's layout: 'U', the length 16 in one byte, the 16 bytes, the app */
    return klen >= 18 && key[0] == 'U' && key[1] == 16 ? (const uint8_t *)key + 2 : NULL;
}

size_t atd_key_touch_ip(char *buf, atd_str app, const atd_ip *ip)
{
    size_t n = ip->family == 4 ? 4 : 16;
    if (app.n + n + 1 + 12 > ATD_KEY_LONG) { /* a digest */
        uint8_t raw[17];
        raw[0] = ip->family;
        memcpy(raw + 1, ip->addr, n);
        return make_key(buf, 'I', app, raw, n + 1);
    }
    /* make_key's layout written in place (a key for nearly every touch): 'I', the length
     * (one byte: 5 or 17), the family and the address (copies of a constant size), the app */
    buf[0] = 'I';
    buf[1] = (char)(n + 1);
    buf[2] = (char)ip->family;
    if (n == 4) memcpy(buf + 3, ip->addr, 4);
    else memcpy(buf + 3, ip->addr, 16);
    return (size_t)((char *)atd_w_bytes((uint8_t *)buf + 3 + n, app.p, app.n) - buf);
}

size_t atd_key_device(char *buf, atd_str app, atd_str device_id)
{
    return make_key(buf, 'D', app, device_id.p, device_id.n);
}
