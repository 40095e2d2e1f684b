/*
 * task.h - a task's record in the broker and the table that finds it, by the broker's id (what
 * workers see) or by its client's own id (what CANCEL names).
 *
 * Layer: dispatch (the socket-free core); uses: common; called by: dispatch.c, service.c.
 * Not thread-safe: the broker's loop thread owns every record.
 *
 * A task is in exactly one state; the fields that go with it are listed beside each:
 *
 *   QUEUED    in its service's queue (qpos >= 0, worker NULL)
 *   RUNNING   sent to a worker, its client waits (worker set, qpos -1)
 *   ANSWERED  its client has its one answer (deadline, cancel, shutdown) but its worker still
 *             owes one: the record stays until then, so the worker's slot is counted honestly
 *             and the late answer is recognised and dropped (worker set, qpos -1)
 *
 * A task leaves the table (and its record is reused) when its client has its answer and no
 * worker owes one. RUNNING goes back to QUEUED when its worker is lost and it has tries left.
 */
#ifndef SWB_TASK_H
#define SWB_TASK_H

#include <stdint.h>
#include <zmq.h>

#include "registry.h"

typedef enum {
    TASK_NEW = 0, /* being created: in the table, not yet queued */
    TASK_QUEUED,
    TASK_RUNNING,
    TASK_ANSWERED,
} task_state_t;

typedef struct task {
    uint64_t id;        /* broker-wide, what workers see */
    uint64_t client_id; /* what the client called it */
    char client[SWB_MAX_NAME + 1];
    reg_peer_t *cpeer; /* the client's record while its gen is cgen (else found by name) */
    uint32_t cgen;
    task_state_t state;
    struct service *svc;
    reg_peer_t *worker; /* RUNNING or ANSWERED: the worker that holds it */
    uint32_t attempt;
    int32_t priority;
    int64_t deadline; /* absolute ms, 0 = none */
    int64_t kill_at;  /* ANSWERED past its deadline: when its worker is declared hung */
    int64_t submitted_us;
    uint64_t seq;
    int32_t qpos;      /* index in the service queue (heap or ring), -1 when not queued */
    zmq_msg_t body;    /* a reference to the frame that holds the body, */
    uint32_t body_off; /* which starts here in it (past the header when it came inline) */
    size_t body_len;
    int has_body;
    struct task *wnext, *wprev; /* the worker's list; wnext links spare records */
} task_t;

/* Every task the broker knows, by id and by (client, client's id). Open addressing: the tables
 * start small and double while half full (sized for the most tasks from the start, every
 * lookup was a cache miss). Freed records are kept for reuse, up to a bound. */
typedef struct {
    task_t **slots;  /* by id */
    task_t **cslots; /* the same tasks by (client, client's id) */
    uint32_t mask, count;
    task_t *spare;
    uint32_t n_spare;
} task_table_t;

int task_table_init(task_table_t *tt);
/* Frees every record, closing its body. */
void task_table_fini(task_table_t *tt);
/* Room for one more task: SWB_OK, or SWB_E_NOMEM (the table is unchanged). */
int task_table_room(task_table_t *tt);
/* A zeroed record (not in the table), or NULL. */
task_t *task_alloc(task_table_t *tt);
void task_insert(task_table_t *tt, task_t *t);
/* Take t out of the table, close its body and keep or free the record. */
void task_free(task_table_t *tt, task_t *t);
task_t *task_find(const task_table_t *tt, uint64_t id);
/* The task of this client with this id that its client has no answer for yet (a client may
 * reuse an id once its task has ended, while an ANSWERED record of it lingers). */
task_t *task_find_client(const task_table_t *tt, const char *client, uint64_t id);
/* Slot i (0 <= i <= mask) for iteration; NULL when empty. */
static inline task_t *task_at(const task_table_t *tt, uint32_t i)
{
    return tt->slots[i];
}

#endif
