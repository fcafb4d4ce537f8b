/* Receive what a ProxyUseFdpass helper sends: one byte with a descriptor. */
#ifndef MFP_RECV_FD_H
#define MFP_RECV_FD_H

/* The descriptor that arrives on channel within timeout_ms, or -1. */
int recv_fd(int channel, int timeout_ms);

#endif
