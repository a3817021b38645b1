/*  redis_int.h — the kit's own side of redis.h: the same calls, answering hiredis replies.
 *
 *  A pl_reply_t is a redisReply seen through an opaque type (redis.c's pl_reply_* accessors are
 *  casts), so the public API costs nothing over hiredis. Inside lib/kit the inbox, the outbox and
 *  the bus read replies on every message; they use these and read the redisReply fields
 *  directly. Included by the kit's sources only: the public header names no hiredis type.
 */
#ifndef PL__REDIS_INT_H
#define PL__REDIS_INT_H
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include "plateau/redis.h"

/* As pl_redis_command, pl_redis_commandv, pl_redis_get_reply, pl_redis_eval; free the reply
 * with freeReplyObject. */
redisReply *pl__redis_command (pl_redis_t *self, const char *fmt, ...);
redisReply *pl__redis_vcommand (pl_redis_t *self, const char *fmt, va_list ap);
redisReply *pl__redis_commandv (pl_redis_t *self, int argc, const char **argv, const size_t *argvlen);
int pl__redis_get_reply (pl_redis_t *self, redisReply **reply);
redisReply *pl__redis_eval (pl_redis_t *self, pl_redis_script_t *script, int nkeys, int argc,
                            const char **argv, const size_t *argvlen);

#endif
