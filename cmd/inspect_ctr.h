/* cmd/inspect_ctr.h - the parts of a container's inspect object that come
 * from run's options (cmd/inspect_ctr.c). */
#ifndef CB_CMD_INSPECT_CTR_H
#define CB_CMD_INSPECT_CTR_H

#include <jansson.h>

#include "runtime/container.h"
#include "store/image.h"
#include "store/store.h"

/* Add docker's fields for c's options to the Config and HostConfig
 * objects: Labels (the image's with --label over them), Healthcheck,
 * StopTimeout; Memory, NanoCpus, CapAdd, CapDrop, ReadonlyRootfs, Tmpfs,
 * ExtraHosts, Dns, Init, Ulimits, RestartPolicy. image_labels is the
 * image's Labels object or NULL (borrowed). */
void cmd_inspect_ctr_options(const rt_ctr_t *c, json_t *image_labels, json_t *config,
			     json_t *host);

/* Docker's Config.Env, Entrypoint, Cmd (null when empty; the image's
 * ENTRYPOINT apart from the command), WorkingDir ("" when neither the
 * image nor -w set one), Domainname, Config.Volumes and HostConfig.Binds.
 * img: the container's image config, or NULL when it is gone. */
void cmd_inspect_ctr_config(const rt_ctr_t *c, const oci_config_t *img, json_t *config,
			    json_t *host);

/* docker's Mounts: one object per -v (bind or volume: Type, Name, Source,
 * Destination, Driver, Mode, RW, Propagation). New reference. */
json_t *cmd_ctr_mounts(store_t *st, const rt_ctr_t *c);

/* The container's labels: the image's, with --label K=V over them. New
 * reference. */
json_t *cmd_ctr_labels(const rt_ctr_t *c, json_t *image_labels);

#endif
