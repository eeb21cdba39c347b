/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page server's wire protocol (tcp:// sources, `doze pageserver`).
 *
 * All integers little-endian. On connect the server sends one hello. Then the
 * client sends requests back to back without waiting (pipelining); the server
 * answers each with a response header followed by nvalid pages of data.
 * Responses carry the request id, so a server may answer out of order (doze's
 * answers in order per connection).
 *
 *   hello:    magic "DZP1" | u32 version | u32 page_size | u32 max_pages
 *             | u64 file_size
 *   request:  magic "DZRQ" | u32 count | u64 id | u64 page
 *   response: magic "DZRS" | i32 status | u32 count | u32 nvalid | u64 id
 *             | nvalid * page_size bytes
 *
 * status is 0 or a negative Linux errno: -ENODATA when pages [page + nvalid,
 * page + count) lie past the end of the memory file (they are lost: the server
 * never sends zeros for them), -EINVAL for a malformed request (count 0 or
 * above max_pages), -EIO for a read error. A malformed header (bad magic)
 * closes the connection.
 */
#ifndef DZ_VMM_PAGEPROTO_H
#define DZ_VMM_PAGEPROTO_H

#include <stdint.h>

#define DZ_PP_HELLO_MAGIC	0x31505a44u	/* "DZP1" */
#define DZ_PP_REQ_MAGIC		0x51525a44u	/* "DZRQ" */
#define DZ_PP_RESP_MAGIC	0x53525a44u	/* "DZRS" */
#define DZ_PP_VERSION		1u
#define DZ_PP_MAX_PAGES		256u

struct dz_pp_hello {
	uint32_t magic;
	uint32_t version;
	uint32_t page_size;
	uint32_t max_pages;
	uint64_t file_size;
} __attribute__((packed));

struct dz_pp_req {
	uint32_t magic;
	uint32_t count;
	uint64_t id;
	uint64_t page;
} __attribute__((packed));

struct dz_pp_resp {
	uint32_t magic;
	int32_t status;
	uint32_t count;
	uint32_t nvalid;
	uint64_t id;
} __attribute__((packed));

_Static_assert(sizeof(struct dz_pp_hello) == 24, "hello layout");
_Static_assert(sizeof(struct dz_pp_req) == 24, "request layout");
_Static_assert(sizeof(struct dz_pp_resp) == 24, "response layout");

#endif
