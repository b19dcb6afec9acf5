// edgegw runs on Linux only: the LwM2M server waits on epoll and takes listening sockets over
// with SO_REUSEPORT. Package.swift cannot say so (its `platforms` names only Apple systems), so
// the build says it here, in the module every other one imports.
#if !os(Linux)
#error("edgegw builds and runs on Linux only (epoll, SO_REUSEPORT socket takeover)")
#endif
