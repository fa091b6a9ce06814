/* Strict JSON reading (RFC 8259) in one pass, without allocation.
 *
 * A scanner walks the text once, front to back, and checks every byte against the grammar as
 * it goes: exact literals (`true` / `false` / `null`), numbers as the RFC writes them, strings
 * with valid escapes, no raw control character and valid UTF-8 (surrogate escapes correctly
 * paired), only JSON whitespace between tokens, nothing after the value. It builds no tree:
 * for a top-level value the caller gets its type and span in the text; for a top-level object,
 * the type and span of the value of each key it asks for (atd_json_scan_object); nested
 * objects and arrays are validated and skipped over. That is what the event parser needs (one
 * flat object whose few known keys are kept), and it is several times cheaper than
 * tokenizing first and walking the tokens afterwards (docs/events.md has the numbers).
 *
 * The helpers for single values (string check/unescape, number check) are public too: the
 * event parser, the HTTP layer and tests use them. */
#ifndef ATTRIBD_JSON_PARSE_H
#define ATTRIBD_JSON_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum atd_json_type {
    ATD_JSON_OBJECT = 1,
    ATD_JSON_ARRAY = 2,
    ATD_JSON_STRING = 3,
    ATD_JSON_NUMBER = 4,
    ATD_JSON_TRUE = 5,
    ATD_JSON_FALSE = 6,
    ATD_JSON_NULL = 7,
} atd_json_type;

/* One value as the scanner saw it.
 *   start/end: byte offsets in the text. Strings: the content between the quotes (still
 *              escaped). Objects/arrays: from the bracket to just past the closing one.
 *              Numbers and literals: their exact text.
 *   escaped:   strings only: the content holds a backslash (needs atd_json_string_unescape). */
typedef struct atd_json_val {
    uint8_t type; /* atd_json_type */
    uint8_t escaped;
    size_t start, end;
} atd_json_val;

/* Why a text was refused. offset: the byte where the problem was seen. */
typedef struct atd_json_error {
    int code; /* ATD_EINVAL (not JSON) or ATD_ETOOBIG (over max_values or the length limit) */
    size_t offset;
    char message[112];
} atd_json_error;

#define ATD_JSON_MAX_LEN ((size_t)1 << 30) /* longer texts are refused with ATD_ETOOBIG */
#define ATD_JSON_DEPTH_CAP 1024            /* max_depth is clamped to this */

/* The cursor over one text. Caller-allocated (no allocation anywhere); the fields are private
 * to json_parse.c except `values` (values met so far) and `pos` (byte offset reached). The
 * text is only read; it must outlive the scanner and every atd_json_val taken from it. */
typedef struct atd_json_scanner {
    const char *s;
    size_t len, pos;
    int values, max_values, max_depth;
    atd_json_error *err;
} atd_json_scanner;

/* Prepares a scan of text[0..len). max_values: limit on values, keys included (more →
 * ATD_ETOOBIG); max_depth: limit on nesting of objects/arrays (the top level is depth 1;
 * clamped to [1, ATD_JSON_DEPTH_CAP]). err receives the reason of the first failure and must
 * live as long as the scanner. */
void atd_json_scan_init(atd_json_scanner *sc, const char *text, size_t len, int max_values,
                        int max_depth, atd_json_error *err);

/* Reads the top-level value (whitespace before it is skipped), validating all of it, nested
 * values included, and fills *v. Returns 0, ATD_EINVAL or ATD_ETOOBIG (with *err filled). */
int atd_json_scan_value(atd_json_scanner *sc, atd_json_val *v);

/* Checks that only whitespace follows sc->pos. Returns 0 or ATD_EINVAL (with *err filled). */
int atd_json_scan_end(atd_json_scanner *sc);

/* Where the value of `key` (n bytes, unescaped, not NUL-terminated, valid only during the
 * call) goes: a slot 0..63, or -1 (or anything else) to drop it. arg is the one given to
 * atd_json_scan_object. */
typedef int (*atd_json_slot_fn)(const char *key, size_t n, void *arg);
#define ATD_JSON_KEY_MAX 64 /* longer keys (after unescaping) are dropped without a slot() call */

/* Reads the whole text as one object (whitespace around allowed, nothing else after it),
 * validating everything, nested values included, in one pass. For each member, slot() says
 * where its value goes: vals[slot] = the value and bit `slot` of *seen is set; a later
 * duplicate key overwrites an earlier one (the last one wins, as in JSON.parse). vals needs
 * room for every slot slot() returns; slots whose bit is clear are left untouched. Returns 0,
 * ATD_EINVAL or ATD_ETOOBIG (with *err filled; vals and *seen are then unspecified). */
int atd_json_scan_object(atd_json_scanner *sc, atd_json_slot_fn slot, void *arg,
                         atd_json_val *vals, uint64_t *seen);

/* A fixed set of keys for atd_json_scan_fields: up to 64 keys of at most 16 bytes each, found
 * with one hash probe instead of a callback per key. Build it once (atd_json_keyset_init);
 * it is only read afterwards, so threads can share it. */
#define ATD_JSON_KEYSET_MAX 64
#define ATD_JSON_KEYSET_KEY_MAX 16
typedef struct atd_json_keyset {
    uint64_t mul;        /* the hash multiplier (chosen so that the keys do not collide) */
    int perfect;         /* no two keys share a bucket: a lookup is one probe */
    uint8_t bucket[256]; /* 1 + index into key[], 0: empty (linear probing) */
    struct {
        uint64_t lo, hi; /* the key's bytes 0-7 and 8-15, zero-padded */
        uint32_t len;
    } key[ATD_JSON_KEYSET_MAX];
    int n;
} atd_json_keyset;

/* The bucket of a key given as its bytes 0-7 and 8-15, zero-padded (lo, hi): the top byte of
 * a product depends on every bit of the input. The length is left out: a key differs from a
 * name with the same bytes and hash only by trailing NULs (an escaped \u0000), which the full
 * compare of atd_json_keyset_probe catches. Inline, for parsers' fast paths that have the
 * key's bytes in registers already. */
static inline unsigned atd_json_keyset_hash(uint64_t mul, uint64_t lo, uint64_t hi)
{
    return (unsigned)(((lo ^ hi) * mul) >> 56);
}

/* The slot of the key with bytes lo/hi (as above) and length len, or -1. */
static inline int atd_json_keyset_probe(const atd_json_keyset *ks, uint64_t lo, uint64_t hi,
                                        size_t len)
{
    for (unsigned h = atd_json_keyset_hash(ks->mul, lo, hi);; h = (h + 1) & 255) {
        unsigned b = ks->bucket[h];
        if (!b) return -1;
        if (ks->key[b - 1].lo == lo && ks->key[b - 1].hi == hi && ks->key[b - 1].len == len)
            return (int)b - 1;
        if (ks->perfect) return -1; /* the only key with this hash is elsewhere */
    }
}

/* names[i] (NUL-terminated, copied) gets slot i. Returns 0, or ATD_EINVAL for more than 64
 * names, a name longer than 16 bytes or a name given twice. */
int atd_json_keyset_init(atd_json_keyset *ks, const char *const *names, int n);
/* The slot of key[0..n) (unescaped bytes), or -1 when it is not in the set. */
int atd_json_keyset_find(const atd_json_keyset *ks, const char *key, size_t n);

/* atd_json_scan_object with the slots of a keyset instead of a slot() callback: the same
 * answers, errors and values for every text. Members in the common compact form (a key and
 * a string of printable ASCII without escapes, a number or a literal, then `,"` or `}`) take
 * a shorter path: no callback, 16 bytes per step, fewer bounds checks. */
int atd_json_scan_fields(atd_json_scanner *sc, const atd_json_keyset *ks, atd_json_val *vals,
                         uint64_t *seen);

/* atd_json_scan_fields has a copy of its code for CPUs with AVX2 (three-operand vector forms,
 * fewer instructions), chosen once at start. Tests call this to run the other copy too:
 * on = 0 forces the baseline (SSE2) copy; on = 1 restores the choice by the CPU. */
void atd_json_scan_fields_use_avx2(int on);

/* The whole of text[0..len) must be exactly one JSON value (surrounding whitespace allowed),
 * within the limits. Returns 0, ATD_EINVAL or ATD_ETOOBIG (with *err filled). */
int atd_json_validate(const char *text, size_t len, int max_values, int max_depth,
                      atd_json_error *err);

/* Checks the content of a JSON string (between the quotes): valid escapes, no raw control
 * character (< 0x20), valid UTF-8, \uD800-\uDBFF followed by \uDC00-\uDFFF and no lone low
 * surrogate. Returns 0 (and *escaped = whether a backslash occurs) or -1 with *bad = the
 * offset of the offending byte. Either pointer may be NULL. */
int atd_json_string_check(const char *s, size_t n, int *escaped, size_t *bad);
/* Decodes the content of a string that passed atd_json_string_check into out, which needs
 * room for n bytes (decoding never makes it longer). Writes no NUL; returns the length.
 * A \u0000 escape yields a NUL byte: callers that need C strings must check for it. */
size_t atd_json_string_unescape(const char *s, size_t n, char *out);
/* 0 when s[0..n) is exactly a JSON number (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?),
 * else -1. */
int atd_json_number_check(const char *s, size_t n);
/* The end of the longest JSON number at s[i] (the RFC grammar above), or (size_t)-1 when s[i]
 * starts none (or i >= n). What follows it is the caller's business. */
size_t atd_json_number_end(const char *s, size_t n, size_t i);
/* 1 when the number text (already checked) has no fraction and no exponent. */
int atd_json_number_is_integer(const char *s, size_t n);

#endif
