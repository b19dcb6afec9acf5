#ifndef CModbus_SHIM_H
#define CModbus_SHIM_H
#include <modbus/modbus.h>
#endif
