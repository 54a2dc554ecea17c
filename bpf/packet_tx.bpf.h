/* SPDX-License-Identifier: GPL-2.0 */
/*
 * packet.bpf.c, the send path: the application's send (TCP: by socket and sequence;
 * UDP: by thread), LOCAL_OUT, the device queue, the driver. The record is made at
 * net_dev_xmit.
 *
 * Where a packet's state lives between LOCAL_OUT and the driver:
 * - On a device without a queue (noqueue: loopback, veth by default) LOCAL_OUT,
 *   net_dev_queue, net_dev_start_xmit and net_dev_xmit run one after the other on one CPU
 *   (__ip_local_out() -> ... -> __dev_queue_xmit() -> dev_hard_start_xmit()), so the
 *   state stays in per-CPU scratch (tx_cpu): no hash update, lookup or delete per packet.
 *   The scratch has NW_TX_SCRATCH slots, matched by skb address and skb->head, because
 *   a softirq can send on the same CPU between LOCAL_OUT and the device (an ACK sent
 *   while the task's packet is in ip_output()), and tunnels nest one send in another.
 * - A device with a qdisc may dequeue the packet later, on another CPU: at net_dev_queue
 *   its state moves to tx_pkt, keyed by skb address.
 *
 * Its units, each building on the ones before it:
 * - packet_tx_state.bpf.h: the marks, the per-packet state (scratch, tx_pkt), the GSO ring, helpers
 * - packet_tx_app.bpf.h: the application's send marks (TCP by sequence, UDP by thread)
 * - packet_tx_out.bpf.h: LOCAL_OUT, where a packet's state starts
 * - packet_tx_gso.bpf.h: the device queue, and GSO packets whose segments are cut later
 * - packet_tx_driver.bpf.h: the driver (net_dev_start_xmit, net_dev_xmit) and the record
 */
#include "packet_tx_state.bpf.h"
#include "packet_tx_app.bpf.h"
#include "packet_tx_out.bpf.h"
#include "packet_tx_gso.bpf.h"
#include "packet_tx_driver.bpf.h"
