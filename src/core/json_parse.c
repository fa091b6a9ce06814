/* Strict JSON on top of jsmn: see include/attribd/json_parse.h for the why. */
#include "attribd/json_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribd/common.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* --- single values ------------------------------------------------------------------- */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u" at s[i] (i points at the first digit); -1 when bad. */
static long hex4(const char *s, size_t n, size_t i)
{
    if (n - i < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)s[i + k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s[i] (lead byte >= 0x80), or 0 when invalid:
 * overlong forms, UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF are refused. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    size_t avail = n - i;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail < 2 || (s[i + 1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[i + 1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[i + 1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
            (s[i + 3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[i + 1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[i + 1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0; /* continuation byte as lead, C0/C1, F5..FF */
}

int atd_json_string_check(const char *s, size_t n, int *escaped, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    int esc = 0;
    size_t i = 0;
    while (i < n) {
        /* the common case, 8 bytes at a time: printable ASCII without a backslash */
        while (n - i >= 8) {
            uint64_t x;
            memcpy(&x, u + i, 8);
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            uint64_t ctl = (x - ones * 0x20) & ~x & highs;       /* a byte < 0x20 */
            uint64_t bsl = ((x ^ ones * '\\') - ones) & ~(x ^ ones * '\\') & highs; /* == '\\' */
            if ((ctl | bsl | (x & highs)) != 0) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            i++;
            continue;
        }
        if (c < 0x20) goto fail;
        if (c >= 0x80) {
            size_t k = utf8_seq(u, n, i);
            if (!k) goto fail;
            i += k;
            continue;
        }
        /* backslash */
        esc = 1;
        if (i + 1 >= n) goto fail;
        switch (s[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            continue;
        case 'u': {
            long cp = hex4(s, n, i + 2);
            if (cp < 0) goto fail;
            if (cp >= 0xDC00 && cp <= 0xDFFF) goto fail; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* a high surrogate must be followed by an escaped low one */
                if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u') goto fail;
                long lo = hex4(s, n, i + 8);
                if (lo < 0xDC00 || lo > 0xDFFF) goto fail;
                i += 12;
            } else {
                i += 6;
            }
            continue;
        }
        default:
            goto fail;
        }
    }
    if (escaped) *escaped = esc;
    return 0;
fail:
    if (bad) *bad = i;
    return -1;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t atd_json_string_unescape(const char *s, size_t n, char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        memmove(out + o, s + i, run); /* out may alias s: decoding never overtakes reading */
        o += run;
        i += run;
        if (i >= n) break;
        char e = s[i + 1];
        switch (e) {
        case 'b': out[o++] = '\b'; i += 2; break;
        case 'f': out[o++] = '\f'; i += 2; break;
        case 'n': out[o++] = '\n'; i += 2; break;
        case 'r': out[o++] = '\r'; i += 2; break;
        case 't': out[o++] = '\t'; i += 2; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(s, n, i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned long lo = (unsigned long)hex4(s, n, i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = e; i += 2; break; /* " \ / */
        }
    }
    return o;
}

static size_t digits(const char *s, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++;
    return k - i;
}

int atd_json_number_check(const char *s, size_t n)
{
    size_t i = 0, d;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return -1;
    if (s[i] == '0') {
        i++;
    } else {
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (!(d = digits(s, n, i))) return -1;
        i += d;
    }
    return i == n ? 0 : -1;
}

int atd_json_number_is_integer(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return 0;
    return 1;
}

/* --- documents ----------------------------------------------------------------------- */

/* The walk: jsmn's tokens are in text order, so a cursor over the text and an index over the
 * tokens advance together; each token must start exactly where the grammar says the next
 * value starts, and only whitespace and the right punctuation may lie between tokens. */
typedef struct walker {
    const char *s;
    size_t len, pos;
    const jsmntok_t *jt;
    atd_json_tok *out;
    int ntok, ti, max_depth;
    atd_json_error *err;
} walker;

static int fail(walker *w, size_t at, const char *msg)
{
    w->err->code = ATD_EINVAL;
    w->err->offset = at;
    snprintf(w->err->message, sizeof w->err->message, "%s at byte %zu", msg, at);
    return -1;
}

static void skip_ws(walker *w)
{
    while (w->pos < w->len) {
        char c = w->s[w->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        w->pos++;
    }
}

static int expect(walker *w, char c, const char *msg)
{
    skip_ws(w);
    if (w->pos >= w->len) return fail(w, w->pos, "unexpected end of JSON");
    if (w->s[w->pos] != c) return fail(w, w->pos, msg);
    w->pos++;
    return 0;
}

static int walk_value(walker *w, int depth);

static int walk_members(walker *w, int me, int depth, int is_object)
{
    char close = is_object ? '}' : ']';
    int count = 0;
    skip_ws(w);
    if (w->pos < w->len && w->s[w->pos] == close) {
        w->pos++;
        w->out[me].size = 0;
        return 0;
    }
    for (;;) {
        if (is_object) {
            skip_ws(w);
            if (w->pos >= w->len) return fail(w, w->pos, "unexpected end of JSON");
            if (w->s[w->pos] != '"') return fail(w, w->pos, "expected a string key");
            if (walk_value(w, depth) < 0) return -1;
            if (expect(w, ':', "expected ':' after a key") < 0) return -1;
        }
        if (walk_value(w, depth) < 0) return -1;
        count++;
        skip_ws(w);
        if (w->pos >= w->len) return fail(w, w->pos, "unexpected end of JSON");
        char c = w->s[w->pos++];
        if (c == close) break;
        if (c != ',') return fail(w, w->pos - 1, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    w->out[me].size = count;
    return 0;
}

static int walk_value(walker *w, int depth)
{
    skip_ws(w);
    if (w->pos >= w->len || w->ti >= w->ntok) return fail(w, w->pos, "expected a value");
    int me = w->ti++;
    const jsmntok_t *t = &w->jt[me];
    atd_json_tok *o = &w->out[me];
    o->escaped = 0;
    o->size = 0;
    switch (t->type) {
    case JSMN_STRING: {
        if ((size_t)t->start != w->pos + 1 || w->s[w->pos] != '"')
            return fail(w, w->pos, "unexpected character");
        int esc;
        size_t bad;
        if (atd_json_string_check(w->s + t->start, (size_t)(t->end - t->start), &esc, &bad) < 0)
            return fail(w, (size_t)t->start + bad,
                        "invalid string (bad escape, control character or UTF-8)");
        o->type = ATD_JSON_STRING;
        o->escaped = (uint8_t)esc;
        w->pos = (size_t)t->end + 1;
        break;
    }
    case JSMN_PRIMITIVE: {
        if ((size_t)t->start != w->pos) return fail(w, w->pos, "unexpected character");
        const char *p = w->s + t->start;
        size_t n = (size_t)(t->end - t->start);
        if (n == 4 && memcmp(p, "true", 4) == 0)
            o->type = ATD_JSON_TRUE;
        else if (n == 5 && memcmp(p, "false", 5) == 0)
            o->type = ATD_JSON_FALSE;
        else if (n == 4 && memcmp(p, "null", 4) == 0)
            o->type = ATD_JSON_NULL;
        else if (atd_json_number_check(p, n) == 0)
            o->type = ATD_JSON_NUMBER;
        else
            return fail(w, w->pos, "invalid literal or number");
        w->pos = (size_t)t->end;
        break;
    }
    case JSMN_OBJECT:
    case JSMN_ARRAY:
        if ((size_t)t->start != w->pos) return fail(w, w->pos, "unexpected character");
        if (depth >= w->max_depth) {
            w->err->code = ATD_EINVAL;
            w->err->offset = w->pos;
            snprintf(w->err->message, sizeof w->err->message,
                     "JSON nested deeper than %d levels at byte %zu", w->max_depth, w->pos);
            return -1;
        }
        o->type = t->type == JSMN_OBJECT ? ATD_JSON_OBJECT : ATD_JSON_ARRAY;
        w->pos++;
        if (walk_members(w, me, depth + 1, t->type == JSMN_OBJECT) < 0) return -1;
        if ((size_t)t->end != w->pos) return fail(w, w->pos, "unbalanced brackets");
        break;
    default:
        return fail(w, w->pos, "unexpected character");
    }
    o->start = t->start;
    o->end = t->end;
    o->next = w->ti;
    return 0;
}

static int too_big(atd_json_error *err, const char *msg)
{
    err->code = ATD_ETOOBIG;
    err->offset = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return ATD_ETOOBIG;
}

int atd_json_doc_parse(atd_json_doc *doc, const char *text, size_t len, int max_tokens,
                       int max_depth, atd_json_error *err)
{
    doc->text = text;
    doc->len = len;
    doc->tok = doc->inline_tok;
    doc->n = 0;
    doc->heap = NULL;
    err->code = 0;
    err->offset = 0;
    err->message[0] = 0;
    if (len > ATD_JSON_MAX_LEN) return too_big(err, "JSON text too long");
    if (max_tokens < 1) max_tokens = 1;

    /* jsmn stops at a NUL byte as if the text ended there; a NUL is never valid JSON. */
    const char *nul = memchr(text, 0, len);
    if (nul) {
        err->code = ATD_EINVAL;
        err->offset = (size_t)(nul - text);
        snprintf(err->message, sizeof err->message, "NUL byte in JSON text at byte %zu",
                 err->offset);
        return ATD_EINVAL;
    }

    /* A bare top-level literal or number: jsmn in strict mode wants a delimiter after a
     * primitive and would call `5` truncated, so these are classified here directly. */
    size_t b = 0, e = len;
    while (b < e && (text[b] == ' ' || text[b] == '\t' || text[b] == '\n' || text[b] == '\r')) b++;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\n' ||
                     text[e - 1] == '\r'))
        e--;
    if (b < e && text[b] != '{' && text[b] != '[' && text[b] != '"') {
        atd_json_tok *t = &doc->tok[0];
        const char *v = text + b;
        size_t n = e - b;
        if (n == 4 && memcmp(v, "true", 4) == 0)
            t->type = ATD_JSON_TRUE;
        else if (n == 5 && memcmp(v, "false", 5) == 0)
            t->type = ATD_JSON_FALSE;
        else if (n == 4 && memcmp(v, "null", 4) == 0)
            t->type = ATD_JSON_NULL;
        else if (atd_json_number_check(v, n) == 0)
            t->type = ATD_JSON_NUMBER;
        else {
            err->code = ATD_EINVAL;
            err->offset = b;
            snprintf(err->message, sizeof err->message, "invalid literal or number at byte %zu", b);
            return ATD_EINVAL;
        }
        t->escaped = 0;
        t->start = (int32_t)b;
        t->end = (int32_t)e;
        t->next = 1;
        t->size = 0;
        doc->n = 1;
        return 0;
    }

    /* jsmn tokens first go to a stack array; on overflow jsmn resumes where it stopped with a
     * bigger heap array, up to max_tokens. */
    jsmntok_t stack_jt[ATD_JSON_INLINE_TOKENS];
    jsmntok_t *jt = stack_jt;
    unsigned cap = ATD_JSON_INLINE_TOKENS < max_tokens ? ATD_JSON_INLINE_TOKENS : (unsigned)max_tokens;
    jsmn_parser p;
    jsmn_init(&p);
    int r;
    for (;;) {
        r = jsmn_parse(&p, text, len, jt, cap);
        if (r != JSMN_ERROR_NOMEM) break;
        if (cap >= (unsigned)max_tokens) {
            if (jt != stack_jt) free(jt);
            char msg[80];
            snprintf(msg, sizeof msg, "JSON has more than %d values", max_tokens);
            return too_big(err, msg);
        }
        unsigned ncap = cap * 4 < (unsigned)max_tokens ? cap * 4 : (unsigned)max_tokens;
        jsmntok_t *bigger = malloc(ncap * sizeof *bigger);
        if (!bigger) abort();
        memcpy(bigger, jt, cap * sizeof *jt);
        if (jt != stack_jt) free(jt);
        jt = bigger;
        cap = ncap;
    }
    if (r < 0) {
        if (jt != stack_jt) free(jt);
        err->code = ATD_EINVAL;
        err->offset = p.pos;
        if (r == JSMN_ERROR_PART)
            snprintf(err->message, sizeof err->message, "truncated JSON (unexpected end)");
        else
            snprintf(err->message, sizeof err->message, "invalid JSON at byte %u", p.pos);
        return ATD_EINVAL;
    }
    int ntok = (int)p.toknext;
    if (ntok == 0) {
        err->code = ATD_EINVAL;
        snprintf(err->message, sizeof err->message, "empty JSON text");
        return ATD_EINVAL;
    }
    if (ntok > ATD_JSON_INLINE_TOKENS) {
        doc->heap = malloc((size_t)ntok * sizeof(atd_json_tok));
        if (!doc->heap) abort();
        doc->tok = doc->heap;
    }

    walker w = {.s = text, .len = len, .pos = 0, .jt = jt, .out = doc->tok, .ntok = ntok,
                .ti = 0, .max_depth = max_depth > 0 ? max_depth : 1, .err = err};
    int rc = walk_value(&w, 0);
    if (rc == 0) {
        skip_ws(&w);
        if (w.pos != len || w.ti != ntok) rc = fail(&w, w.pos, "unexpected data after the JSON value");
    }
    if (jt != stack_jt) free(jt);
    if (rc < 0) return err->code;
    doc->n = ntok;
    return 0;
}

void atd_json_doc_free(atd_json_doc *doc)
{
    free(doc->heap);
    doc->heap = NULL;
    doc->tok = doc->inline_tok;
    doc->n = 0;
}
