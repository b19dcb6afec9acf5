#ifndef CCoAP_SHIM_H
#define CCoAP_SHIM_H
#include <coap3/coap.h>
#endif
