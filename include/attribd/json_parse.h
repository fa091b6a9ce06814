/* Strict JSON reading (RFC 8259) on top of jsmn.
 *
 * jsmn alone is a lenient tokenizer: it accepts `[1 2]`, `{"a" 1}`, `tru`, `01`, raw control
 * characters in strings and trailing garbage. atd_json_doc_parse runs jsmn and then walks its
 * tokens in lock-step with the text, so that every byte between tokens is checked against the
 * grammar, every primitive is an exact literal or a valid number, and every string has valid
 * escapes, no raw control character and valid UTF-8 (surrogate escapes correctly paired).
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

/* One value of a parsed document, in text order (pre-order: an object is followed by its
 * first key, that key by its value, ...).
 *   start/end: byte offsets in the text. Strings: the content between the quotes (still
 *              escaped). Objects/arrays: from the bracket to just past the closing one.
 *   next:      index of the first token after this value and all its children, so members of
 *              an object are walked as key = i, value = i + 1, next key = tok[i + 1].next.
 *   escaped:   strings only: the content holds a backslash (needs atd_json_string_unescape).
 *   size:      objects: number of members; arrays: number of elements; else 0. */
typedef struct atd_json_tok {
    uint8_t type; /* atd_json_type */
    uint8_t escaped;
    int32_t start, end;
    int32_t next;
    int32_t size;
} atd_json_tok;

#define ATD_JSON_INLINE_TOKENS 128

/* A parsed document. Small documents need no allocation (tokens live inline); larger ones
 * get a heap array, released by atd_json_doc_free. The document does not copy the text: tokens
 * are offsets into the caller's buffer, which must outlive their use. */
typedef struct atd_json_doc {
    const char *text;
    size_t len;
    atd_json_tok *tok; /* tok[0] is the top-level value */
    int n;             /* number of tokens */
    void *heap;        /* owned allocation, or NULL */
    atd_json_tok inline_tok[ATD_JSON_INLINE_TOKENS];
} atd_json_doc;

/* Why a document was refused. offset: the byte where the problem was seen (best effort). */
typedef struct atd_json_error {
    int code; /* ATD_EINVAL (not JSON) or ATD_ETOOBIG (over max_tokens or the length limit) */
    size_t offset;
    char message[112];
} atd_json_error;

#define ATD_JSON_MAX_LEN ((size_t)1 << 30) /* jsmn keeps offsets in int */

/* Parses text[0..len) as exactly one JSON value (surrounding whitespace allowed).
 * max_tokens: limit on values (keys count as values); max_depth: limit on nesting of
 * objects/arrays (the top level is depth 1). Returns 0, or ATD_EINVAL / ATD_ETOOBIG with *err
 * filled. Always call atd_json_doc_free afterwards (also after an error). */
int atd_json_doc_parse(atd_json_doc *doc, const char *text, size_t len, int max_tokens,
                       int max_depth, atd_json_error *err);
void atd_json_doc_free(atd_json_doc *doc);

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
/* 1 when the number text (already checked) has no fraction and no exponent. */
int atd_json_number_is_integer(const char *s, size_t n);

#endif
