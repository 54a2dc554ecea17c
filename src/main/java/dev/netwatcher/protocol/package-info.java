/**
 * Parsers of application messages from the first bytes of a packet's payload (HTTP/1.x,
 * DNS) and the trackers that pair a request with its response. Pure Java: they know
 * nothing about BPF and take truncated or hostile input without throwing.
 */
package dev.netwatcher.protocol;
