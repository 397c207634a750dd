/*
 * door_notices_test.c - an incident's notices through the door on a real vault, without a
 * server: a drill's letters go only to the drill's recipients (never to a customer of the
 * drill's scope, whatever their address), a drill without recipients sends nothing and is
 * never exported; two customer-service senders at once on one real incident mail each
 * customer once (the claim is a compare-and-set on the incident); the records hold no
 * address or name.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "door/door.h"
#include "door/door_incident.h"
#include "door/door_notices.h"
#include "model/model.h"
#include "smtp_rx.h"
#include "test.h"

static vault *V;
static char DIR_[600];
static actor SYS, SEC, LEGAL, SVC, STEW;
static char CUS[4][ID_LEN + 1];
static rx RX;

static actor person(const char *user, role r, const char *dept)
{
    actor a;
    EXPECT_OK(door_account_create(V, &SYS, user, "a-long-enough-password-1", r, dept));
    EXPECT_OK(door_actor_of(V, user, &a));
    snprintf(a.source, sizeof a.source, "127.0.0.1");
    snprintf(a.request_id, sizeof a.request_id, "t");
    return a;
}

static void write_cfg(bool with_drill)
{
    char p[700];
    snprintf(p, sizeof p, "%s/notices.json", DIR_);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "{\"company\": \"Yacang Antiques Ltd.\", \"system\": \"Custos\","
            " \"contact_phone\": \"400-800-1234\", \"contact_email\": \"privacy@yacang.example\","
            " \"smtp\": \"smtp://127.0.0.1:%d\", \"smtp_plain_loopback\": true,"
            " \"from\": \"notices@yacang.example\"%s}\n",
            RX.port, with_drill ? ", \"drill_recipients\": [\"drill@staff.example\"]" : "");
    fclose(f);
}

TEST(t_setup)
{
    char *d = test_tmpdir("door_notices");
    char key[700];
    snprintf(DIR_, sizeof DIR_, "%s/vault", d);
    snprintf(key, sizeof key, "%s/key", d);
    free(d);
    EXPECT_OK(vault_key_file_generate(key));
    vault_key src = {NULL, 0, key};
    vault_init_opts o = {&src, VAULT_KDF_FAST, NULL, NULL};
    EXPECT_OK(vault_init(DIR_, &o));
    EXPECT_OK(vault_open(DIR_, &src, &V));
    actor_system(&SYS, "test");
    SEC = person("security1", ROLE_SECURITY, "security");
    LEGAL = person("legal1", ROLE_LEGAL, "legal");
    SVC = person("service1", ROLE_CUSTOMER_SERVICE, "beijing");
    STEW = person("steward1", ROLE_DATA_STEWARD, "beijing");
    /* the shipped playbook, from the vault's own folder */
    char p[700];
    snprintf(p, sizeof p, "%s/playbooks", DIR_);
    EXPECT(mkdir(p, 0700) == 0);
    size_t n = 0;
    char *text = test_slurp("etc/playbooks/customer-data-misread.playbook", &n);
    EXPECT(text != NULL);
    snprintf(p, sizeof p, "%s/playbooks/customer-data-misread.playbook", DIR_);
    FILE *f = fopen(p, "w");
    if (f && text) {
        fwrite(text, 1, n, f);
    }
    if (f) {
        fclose(f);
    }
    free(text);
    rx_start(&RX);
    write_cfg(true);
    /* four customers with real-looking addresses, all read by the steward (the breach) */
    for (int i = 0; i < 4; i++) {
        record r;
        record_init(&r, REC_CUSTOMER);
        char name[32], mail[64];
        snprintf(name, sizeof name, "客户%d", i);
        snprintf(mail, sizeof mail, "real%d@cust.example", i);
        EXPECT_OK(record_set(&r, CF_NAME, name, strlen(name)));
        EXPECT_OK(record_set(&r, CF_EMAIL, mail, strlen(mail)));
        EXPECT_OK(door_customer_create(V, &STEW, &r, CUS[i]));
        record_free(&r);
        json_t *j = NULL;
        EXPECT_OK(door_customer_get(V, &STEW, CUS[i], &j));
        json_decref(j);
    }
}

/* Opens an incident (drill or not), computes its scope (steward1's reads), writes the texts and
 * has legal approve the letters in Chinese. */
static void incident_ready(bool drill, char *id, size_t cap)
{
    door_incident_open_opts o = {.playbook = "customer-data-misread", .drill = drill};
    json_t *j = NULL;
    EXPECT_OK(door_incident_open(V, &SEC, &o, &j));
    snprintf(id, cap, "%s", json_string_value(json_object_get(j, "id")) ?: "");
    json_decref(j);
    door_scope_query q;
    memset(&q, 0, sizeof q);
    q.actors[0] = "steward1";
    q.nactors = 1;
    EXPECT_OK(door_incident_scope_compute(V, &SEC, id, &q, &j));
    json_decref(j);
    json_t *texts = json_pack("{s:s,s:s}", "measures", "锁定了相关账户。", "customer_steps",
                              "不要向任何人透露验证码。");
    EXPECT_OK(door_notices_texts(V, &SEC, id, "zh-CN", texts, &j));
    json_decref(texts);
    json_decref(j);
    EXPECT_OK(door_notices_approve(V, &LEGAL, id, "customer-notice", "zh-CN", &j));
    json_decref(j);
}

TEST(t_drill_mails_only_drill_recipients)
{
    char id[64];
    incident_ready(true, id, sizeof id);
    int before = rx_count(&RX);
    /* no drill recipients configured: nothing at all is sent */
    write_cfg(false);
    json_t *j = NULL;
    EXPECT_ERR(door_notices_send(V, &SVC, id, false, false, NULL, &j), ERR_PRECONDITION);
    EXPECT_INT(rx_count(&RX), before);
    write_cfg(true);
    EXPECT_OK(door_notices_send(V, &SVC, id, false, false, NULL, &j));
    EXPECT_INT(json_integer_value(json_object_get(j, "sent")), 4);
    json_decref(j);
    EXPECT(wait_mails(&RX, before + 4));
    pthread_mutex_lock(&RX.mu);
    for (int i = before; i < RX.mails; i++) {
        EXPECT_STR(RX.rcpt[i], "<drill@staff.example>\r\n");
        EXPECT(strstr(RX.data[i], "cust.example") == NULL);
        EXPECT(strstr(RX.data[i], "演练 DRILL") != NULL);
    }
    pthread_mutex_unlock(&RX.mu);
    /* a drill is not exported for SMS or post */
    buf b;
    buf_init(&b, 0);
    EXPECT_ERR(door_notices_export(V, &SVC, id, "post", NULL, &b), ERR_CONFLICT);
    buf_free(&b);
}

typedef struct sender {
    const char *id;
    err e;
    json_t *j;
} sender;

static void *send_main(void *arg)
{
    sender *s = arg;
    s->e = door_notices_send(V, &SVC, s->id, false, false, NULL, &s->j);
    return NULL;
}

TEST(t_concurrent_senders_one_incident)
{
    char id[64];
    incident_ready(false, id, sizeof id);
    int before = rx_count(&RX);
    json_t *j = NULL;
    EXPECT_ERR(door_notices_send(V, &LEGAL, id, false, false, NULL, &j), ERR_DENIED);
    sender a = {.id = id}, b = {.id = id};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, send_main, &a);
    pthread_create(&tb, NULL, send_main, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    EXPECT_OK(a.e);
    EXPECT_OK(b.e);
    EXPECT_INT(json_integer_value(json_object_get(a.j, "sent")) +
                   json_integer_value(json_object_get(b.j, "sent")),
               4);
    json_decref(a.j);
    json_decref(b.j);
    EXPECT(wait_mails(&RX, before + 4));
    for (int c = 0; c < 4; c++) {
        char want[64];
        snprintf(want, sizeof want, "<real%d@cust.example>", c);
        int seen = 0;
        pthread_mutex_lock(&RX.mu);
        for (int i = before; i < RX.mails; i++) {
            seen += strstr(RX.rcpt[i], want) != NULL;
        }
        pthread_mutex_unlock(&RX.mu);
        EXPECT_INT(seen, 1);
    }
    EXPECT_OK(door_notices_records(V, &SVC, id, &j));
    EXPECT_INT(json_array_size(json_object_get(j, "records")), 4);
    char *dump = json_dumps(j, JSON_COMPACT);
    EXPECT(dump && strstr(dump, "cust.example") == NULL && strstr(dump, "客户") == NULL);
    free(dump);
    json_decref(j);
}

int main(void)
{
    test_init();
    RUN(t_setup);
    RUN(t_drill_mails_only_drill_recipients);
    RUN(t_concurrent_senders_one_incident);
    rx_stop(&RX);
    vault_close(V);
    return test_done("door_notices_test");
}
