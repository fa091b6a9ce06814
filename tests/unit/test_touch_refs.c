/* References in the ip lists (touch_store.h): the short layout written since session 5 keeps a
 * lower-case UUID as its 16 bytes and any other advertising id as text, reads back to the same
 * id and list key, sits in a list among full records; the long layout of older stores still
 * reads. */
#include "attribution/codec.h"
#include "attribution/touch_store.h"
#include "harness.h"

static atd_str s(const char *p) { return (atd_str){p, strlen(p)}; }

/* The text of the advertising id a decoded reference names, and its list key. */
static void ref_id(const atd_touch *t, char *text, size_t *tn, char *key, size_t *kn)
{
    if (t->adid_uuid) {
        CHECK_EQ_INT(t->adid.n, 16);
        atd_touch_uuid_text((const uint8_t *)t->adid.p, text);
        *tn = 36;
        *kn = atd_key_touch_uuid(key, s("app"), (const uint8_t *)t->adid.p);
    } else {
        memcpy(text, t->adid.p, t->adid.n);
        *tn = t->adid.n;
        *kn = atd_key_touch_adid(key, s("app"), t->adid);
    }
}

static void check_round_trip(const char *adid, int want_uuid, size_t want_max_bytes)
{
    atd_buf b;
    atd_buf_init(&b);
    /* a full record before and after the reference: the list stays walkable */
    atd_touch full;
    memset(&full, 0, sizeof full);
    full.ts = 1793534400000;
    full.seq = 7;
    full.type = ATD_EV_CLICK;
    full.media_source = s("networkA");
    full.campaign = s("c1");
    atd_touch_encode(&full, &b);
    size_t before = b.n;
    atd_touch_encode_ref(1793534400123, 123456789, ATD_EV_IMPRESSION, s(adid), NULL, &b);
    size_t ref_bytes = b.n - before;
    CHECK(ref_bytes <= want_max_bytes);
    /* the same bytes when the caller hands over the UUID from the list's key */
    {
        char key[ATD_KEY_MAX];
        size_t kn = atd_key_touch_adid(key, s("app"), s(adid));
        const uint8_t *uuid = atd_key_uuid(key, kn);
        CHECK_EQ_INT(uuid != NULL, want_uuid);
        atd_buf b2;
        atd_buf_init(&b2);
        atd_touch_encode_ref(1793534400123, 123456789, ATD_EV_IMPRESSION, s(adid), uuid, &b2);
        CHECK_EQ_INT(b2.n, ref_bytes);
        CHECK(memcmp(b2.p, b.p + before, ref_bytes) == 0);
        atd_buf_free(&b2);
    }
    full.seq = 8;
    atd_touch_encode(&full, &b);

    atd_touch_iter it;
    atd_touch_iter_init(&it, b.p, b.n);
    CHECK_EQ_INT(atd_touch_iter_next(&it), 1);
    CHECK_EQ_INT(it.seq, 7);
    CHECK_EQ_INT(atd_touch_iter_next(&it), 1);
    CHECK_EQ_INT(it.ts, 1793534400123);
    CHECK_EQ_INT(it.seq, 123456789);
    CHECK_EQ_INT(it.type, ATD_EV_IMPRESSION);
    CHECK_EQ_INT(it.flags, ATD_TF_REF | ATD_TF_SHORT);
    CHECK(it.media_source.p == NULL);
    atd_touch t;
    CHECK_EQ_INT(atd_touch_iter_decode(&it, &t), 0);
    CHECK_EQ_INT(t.adid_uuid, want_uuid);
    CHECK(t.flags & ATD_TF_REF);
    CHECK(!t.has_ip && !t.fp.os && !t.campaign.p);
    char text[512], key[ATD_KEY_MAX], want_key[ATD_KEY_MAX];
    size_t tn, kn;
    ref_id(&t, text, &tn, key, &kn);
    CHECK_EQ_INT(tn, strlen(adid));
    CHECK(memcmp(text, adid, tn) == 0);
    size_t wkn = atd_key_touch_adid(want_key, s("app"), s(adid));
    CHECK_EQ_INT(kn, wkn);
    CHECK(memcmp(key, want_key, kn) == 0);
    /* the list's lookups by seq and flag setting see it */
    CHECK_EQ_INT(atd_touch_list_find(b.p, b.n, 123456789, &it), 1);
    CHECK_EQ_INT(atd_touch_list_set_flag(b.p, b.n, 123456789, ATD_TF_WON), 1);
    CHECK_EQ_INT(atd_touch_list_find(b.p, b.n, 123456789, &it), 1);
    CHECK_EQ_INT(it.flags, ATD_TF_REF | ATD_TF_SHORT | ATD_TF_WON);
    CHECK_EQ_INT(atd_touch_iter_next(&it), 1);
    CHECK_EQ_INT(it.seq, 8);
    CHECK_EQ_INT(atd_touch_iter_next(&it), 0);
    atd_buf_free(&b);
}

static void test_short_references(void)
{
    /* a UUID: 1 length + 6 ts + 4 seq + type + flags + form + 16 */
    check_round_trip("0123abcd-ef45-6789-abcd-ef0123456789", 1, 30);
    check_round_trip("ffffffff-ffff-ffff-ffff-ffffffffffff", 1, 30);
    check_round_trip("00000000-0000-0000-0000-000000000000", 1, 30);
    /* other spellings stay text */
    check_round_trip("0123ABCD-ef45-6789-abcd-ef0123456789", 0, 52);
    check_round_trip("x", 0, 17);
    char longid[301];
    memset(longid, 'a', 300);
    longid[300] = 0;
    check_round_trip(longid, 0, 320); /* a length prefix of 2 bytes */
}

static void test_long_references_still_read(void)
{
    /* what stores written before session 5 hold: the full layout, every field absent but
     * ts, seq, type, flags and the advertising id */
    atd_touch ref;
    memset(&ref, 0, sizeof ref);
    ref.ts = 1793534400123;
    ref.seq = 99;
    ref.type = ATD_EV_CLICK;
    ref.flags = ATD_TF_REF;
    ref.adid = s("0123abcd-ef45-6789-abcd-ef0123456789");
    atd_buf b;
    atd_buf_init(&b);
    atd_touch_encode(&ref, &b);
    CHECK(b.n > 50);
    atd_touch_iter it;
    atd_touch_iter_init(&it, b.p, b.n);
    CHECK_EQ_INT(atd_touch_iter_next(&it), 1);
    CHECK_EQ_INT(it.flags, ATD_TF_REF);
    atd_touch t;
    CHECK_EQ_INT(atd_touch_iter_decode(&it, &t), 0);
    CHECK_EQ_INT(t.adid_uuid, 0);
    CHECK_EQ_INT(t.seq, 99);
    CHECK_EQ_INT(t.adid.n, 36);
    CHECK(memcmp(t.adid.p, "0123abcd-ef45-6789-abcd-ef0123456789", 36) == 0);
    atd_buf_free(&b);
}

static void test_broken_short_references(void)
{
    /* a bad form byte, a cut UUID, trailing bytes: corrupt, not read past the record */
    static const uint8_t bad_form[] = {6, 1, 2, ATD_EV_CLICK, ATD_TF_REF | ATD_TF_SHORT, 7, 0};
    static const uint8_t cut[] = {8, 1, 2, ATD_EV_CLICK, ATD_TF_REF | ATD_TF_SHORT, 16, 1, 2, 3};
    static const uint8_t trailing[] = {8, 1, 2, ATD_EV_CLICK, ATD_TF_REF | ATD_TF_SHORT, 0, 2, 'x', 9};
    static const uint8_t no_id[] = {6, 1, 2, ATD_EV_CLICK, ATD_TF_REF | ATD_TF_SHORT, 0, 0};
    const uint8_t *cases[] = {bad_form, cut, trailing, no_id};
    size_t lens[] = {sizeof bad_form, sizeof cut, sizeof trailing, sizeof no_id};
    for (size_t i = 0; i < 4; i++) {
        atd_touch_iter it;
        atd_touch_iter_init(&it, cases[i], lens[i]);
        int r = atd_touch_iter_next(&it);
        if (r != 1) continue; /* refused by the record's length already */
        atd_touch t;
        CHECK_EQ_INT(atd_touch_iter_decode(&it, &t), ATD_ECORRUPT);
    }
}

int main(void)
{
    RUN(test_short_references);
    RUN(test_long_references_still_read);
    RUN(test_broken_short_references);
    return atd_test_done();
}
