/* The one version string of Tandem (control socket, metrics, User-Agent if asked). */
#ifndef TANDEM_CORE_VERSION_H
#define TANDEM_CORE_VERSION_H

#define TANDEM_VERSION "0.1.0"

#endif
