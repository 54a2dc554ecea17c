/* SPDX-License-Identifier: GPL-2.0 */
/* Map helpers shared by the probes (after libbpf-tools' maps.bpf.h). */
#ifndef NW_MAPS_BPF_H
#define NW_MAPS_BPF_H

#include <bpf/bpf_helpers.h>

/* The entry for key, created from *init when missing (NULL only if the map refuses it). */
static __always_inline void *nw_lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v || !init)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The same for values too large for the BPF stack: zeroes come from a one-slot per-CPU array, read only on a miss. */
static __always_inline void *nw_lookup_or_zero(void *map, const void *key, void *zero_array)
{
	void *v = bpf_map_lookup_elem(map, key);
	if (v)
		return v;
	__u32 zero = 0;
	return nw_lookup_or_init(map, key, bpf_map_lookup_elem(zero_array, &zero));
}

#endif
