/*
 * The API's answers in Simplified Chinese.  A request whose Accept-Language prefers Chinese
 * (zh, zh-CN, zh-Hans...: the tag with the highest q wins, the first one on a tie) gets every
 * error's "error" and "detail" in Chinese; English stays the default.  http.c calls
 * toon_lang_localize on each error body just before it is sent, so no route needs to know.
 *
 * Messages of statuses come from the status X-macro (toon_status_str_zh).  The service's own
 * error labels and fixed detail sentences are in the one table below.  Details composed with
 * numbers or names are not translated piece by piece: the Chinese detail is then the status's
 * message, and the English sentence is kept in "detail_en".
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/internal.h"

/* English -> Chinese for the service's error labels and fixed details. */
static const char *const phrases[][2] = {
    {"method not allowed", "不允许的请求方法"},
    {"not ready", "尚未就绪"},
    {"timeout", "超时"},
    {"no model", "没有可用的模型"},
    {"no such API route", "没有这个 API 路径"},
    {"no such batch route", "没有这个批量任务路径"},
    {"no such page or route", "没有这个页面或路径"},
    {"no such route", "没有这个路径"},
    {"no such result in the history", "历史记录中没有这个结果"},
    {"the result file is missing on disk", "磁盘上找不到结果文件"},
    {"the result file is missing on disk, or is not a regular file",
     "磁盘上找不到结果文件，或它不是普通文件"},
    {"only GET is served outside /api/v1", "/api/v1 之外只支持 GET"},
    {"see the API in the README", "请参阅 README 中的 API 说明"},
    {"use GET (or DELETE to cancel) on /api/v1/jobs/{id}",
     "请对 /api/v1/jobs/{id} 使用 GET（或用 DELETE 取消）"},
    {"the job is still queued or running; cancel it first", "任务仍在排队或运行中，请先取消"},
    {"results are kept in Redis in scale-out mode; they expire on their own",
     "扩展模式下结果保存在 Redis 中，会自动过期"},
    {"no result of this batch is finished yet", "这个批量任务还没有完成的结果"},
    {"cannot create the ZIP file", "无法创建 ZIP 文件"},
    {"cannot write the ZIP file", "无法写入 ZIP 文件"},
    {"no random bytes", "无法获取随机数"},
    {"out of memory", "内存不足"},
    {"empty body", "请求体为空"},
    {"multipart body is empty", "multipart 请求体为空"},
    {"multipart body without a boundary", "multipart 请求体缺少 boundary"},
    {"bad multipart boundary", "multipart 的 boundary 无效"},
    {"not multipart/form-data", "不是 multipart/form-data"},
    {"the server is shutting down", "服务器正在关闭"},
    {"too many jobs are held; retry later", "保留的任务过多，请稍后重试"},
    {"send one image per job (use /api/v1/batches for several)",
     "每个任务只能发送一张图片（多张请用 /api/v1/batches）"},
    {"no image in the request: send it as the body (Content-Type: image/png, image/jpeg or "
     "image/webp) or as a multipart file field",
     "请求中没有图片：请把图片作为请求体发送（Content-Type: image/png、image/jpeg 或 "
     "image/webp），或作为 multipart 文件字段发送"},
    {TOON_DISK_FULL_DETAIL, "服务器磁盘已满，无法保存任务，请稍后再试"},
};

static const char *phrase_zh(const char *en)
{
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (strcmp(en, phrases[i][0]) == 0) return phrases[i][1];
    for (int st = 0; st < TOON_STATUS_COUNT_; st++)
        if (strcmp(en, toon_status_str((enum toon_status)st)) == 0)
            return toon_status_str_zh((enum toon_status)st);
    return NULL;
}

/* One language range "tag;q=x" of length n: *zh set when its primary tag is zh; the q. */
static double range_q(const char *s, size_t n, int *zh)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    size_t tag = strcspn(s, ";, \t");
    if (tag > n) tag = n;
    *zh = (tag == 2 || (tag > 2 && s[2] == '-')) && strncasecmp(s, "zh", 2) == 0;
    const char *q = memchr(s, ';', n);
    if (!q) return 1.0;
    q++;
    while (*q == ' ') q++;
    if (strncasecmp(q, "q=", 2) != 0) return 1.0;
    return strtod(q + 2, NULL);
}

int toon_lang_wants_zh(const char *accept)
{
    if (!accept) return 0;
    double best = 0;
    int best_zh = 0;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");
        int zh;
        double q = range_q(p, n, &zh);
        if (q > best) {
            best = q;
            best_zh = zh;
        }
        p += n;
        if (*p) p++;
    }
    return best_zh;
}

void toon_lang_localize(struct cJSON *o)
{
    cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "error");
    cJSON *detail = cJSON_GetObjectItemCaseSensitive(o, "detail");
    const char *error_zh = cJSON_IsString(error) ? phrase_zh(error->valuestring) : NULL;
    if (cJSON_IsString(detail) && detail->valuestring[0]) {
        const char *zh = phrase_zh(detail->valuestring);
        if (!zh) {
            cJSON_AddStringToObject(o, "detail_en", detail->valuestring);
            zh = error_zh ? error_zh : "请求失败";
        }
        cJSON_ReplaceItemInObjectCaseSensitive(o, "detail", cJSON_CreateString(zh));
    }
    if (error_zh) cJSON_ReplaceItemInObjectCaseSensitive(o, "error", cJSON_CreateString(error_zh));
}
