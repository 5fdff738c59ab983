/*
 * Calibration of the cost model: each stage of the pipeline timed alone on
 * this NIC, fitted to t = a + b * bytes per fragment (cost.h).  The sending
 * stages are host DMA to the NIC and the wire; the receiving stages are
 * measured here too, because nodes are identical (SPMD): the receive engine
 * through MAC loopback (the frame is copied into one of our own posted
 * receive buffers, no wire), the DMA to the host into the scratch window.
 * Calibration frames go to our own MAC, so a peer's NIC filters them out.
 */
#include "fw_priv.h"

#include "cost.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CAL_REPS 8u
#define CAL_ROUNDS 3u

/* What one calibration job is, in the order the stages are timed. */
enum cal_job { CAL_HOST_TX, CAL_WIRE, CAL_HOST_RX, CAL_WIRE_RX, CAL_JOBS };

/* The index in ctl->stages each job's fit goes to, and its name. */
static const struct {
	unsigned stage;
	const char *name;
} cal_stages[CAL_JOBS] = {
	[CAL_HOST_TX] = { 0, "host-dma-tx" },
	[CAL_WIRE] = { 1, "wire" },
	[CAL_HOST_RX] = { 3, "host-dma-rx" },
	[CAL_WIRE_RX] = { 2, "wire-rx" },
};

/* Wait for count completions of cookie kind CK_CAL.  @ret 0 or -ETIMEDOUT. */
static int cal_wait(struct nicfw *fw, enum hal_ev_type type, unsigned count)
{
	struct hal_event ev[16];
	int n, i, idle = 0;

	while (count) {
		n = fw->hal->ops->event_wait(fw->hal, ev, 16, 100);
		if (n <= 0 && ++idle > 50)
			return -ETIMEDOUT;
		for (i = 0; i < n; i++) {
			if (ev[i].type == type && CK_KIND(ev[i].cookie) == CK_CAL) {
				/* A frame the link would not take (no carrier): no figure to fit. */
				if (ev[i].status)
					return ev[i].status;
				count--;
			}
			else if (CK_KIND(ev[i].cookie) != CK_CAL)
				/*
				 * Not lost: the host may come early, and a peer that
				 * started first sends hellos while we calibrate.  Its
				 * frames land in the receive buffers posted before
				 * calibration and are answered now.
				 */
				fw_event(fw, &ev[i]);
		}
	}
	return 0;
}

/*
 * Each stage's bandwidth alone: a longer stream of the largest fragment
 * (up to 64 in flight, best of four rounds), in MB/s.  These are the numbers
 * the pipeline is compared with.
 */
static int cal_stream(struct nicfw *fw, double *bw_host, double *bw_wire)
{
	uint32_t max = fw->ctl->max_frag, reps = fw->ntx < 64 ? fw->ntx : 64, r, round;
	struct snf_hdr h = { 0 };
	uint64_t t0;
	double t;
	int rc;

	memcpy(h.dst, fw->link.mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CAL;
	h.src_node = h.dst_node = fw->cfg.node_id;
	h.frag_len = max;
	*bw_host = *bw_wire = 0;
	for (round = 0; round < 4; round++) {
		t0 = fw->hal->ops->now_ns(fw->hal);
		for (r = 0; r < reps; r++)
			if ((rc = fw->hal->ops->dma(fw->hal, HAL_WIN_SCRATCH, HAL_DMA_TO_NIC, 0,
						    fw->tx[r].off + SNF_FRAME_HDR, max, CK(CK_CAL, r))))
				return rc;
		if ((rc = cal_wait(fw, HAL_EV_DMA_DONE, reps)))
			return rc;
		t = (double)(fw->hal->ops->now_ns(fw->hal) - t0);
		if (t > 0 && (double)reps * max / t * 1e3 > *bw_host)
			*bw_host = (double)reps * max / t * 1e3;
		t0 = fw->hal->ops->now_ns(fw->hal);
		for (r = 0; r < reps; r++) {
			snf_hdr_encode(&h, fw->mem + fw->tx[r].off);
			if ((rc = fw->hal->ops->wire_send(fw->hal, fw->tx[r].off, SNF_FRAME_HDR + max, 0,
							  CK(CK_CAL, r))))
				return rc;
		}
		if ((rc = cal_wait(fw, HAL_EV_TX_DONE, reps)))
			return rc;
		t = (double)(fw->hal->ops->now_ns(fw->hal) - t0);
		if (t > 0 && (double)reps * max / t * 1e3 > *bw_wire)
			*bw_wire = (double)reps * max / t * 1e3;
	}
	return 0;
}

/*
 * How much the sending stages overlap: reps fragments of the largest size,
 * each sent as soon as its fetch is done (the pipeline's own order), best of
 * three rounds, against the stages' own times per fragment (t_dma, t_wire):
 * all of them one after the other (serial, 1000) or the slower one alone
 * plus one fill (a perfect pipeline, 0).  On a NIC whose engines run
 * beside each other it is near 0; on an emulated NIC whose engine threads
 * share CPUs with everything else it is what the CPUs allow.
 * @ret 0 or as cal_wait().
 */
static int cal_pipe(struct nicfw *fw, double t_dma, double t_wire, uint32_t *serial_pm)
{
	const struct nic_hal_operations *ops = fw->hal->ops;
	uint32_t max = fw->ctl->max_frag, reps = fw->ntx < 16 ? fw->ntx : 16, r, done, round;
	struct snf_hdr h = { 0 };
	struct hal_event ev[16];
	double best = 0, t, tsum, tbn, s;
	uint64_t t0;
	int rc, n, i, idle;

	memcpy(h.dst, fw->link.mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CAL;
	h.src_node = h.dst_node = fw->cfg.node_id;
	h.frag_len = max;
	for (round = 0; round < 3; round++) {
		t0 = ops->now_ns(fw->hal);
		for (r = 0; r < reps; r++)
			if ((rc = ops->dma(fw->hal, HAL_WIN_SCRATCH, HAL_DMA_TO_NIC, 0,
					   fw->tx[r].off + SNF_FRAME_HDR, max, CK(CK_CAL, r))))
				return rc;
		for (done = 0, idle = 0; done < reps;) {
			n = ops->event_wait(fw->hal, ev, 16, 100);
			if (n <= 0 && ++idle > 50)
				return -ETIMEDOUT;
			for (i = 0; i < n; i++) {
				if (CK_KIND(ev[i].cookie) != CK_CAL) {
					fw_event(fw, &ev[i]); /* as in cal_wait() */
					continue;
				}
				if (ev[i].status)
					return ev[i].status;
				if (ev[i].type == HAL_EV_DMA_DONE) {
					r = CK_IDX(ev[i].cookie);
					if (r >= reps)
						return -EPROTO;
					snf_hdr_encode(&h, fw->mem + fw->tx[r].off);
					if ((rc = ops->wire_send(fw->hal, fw->tx[r].off,
								 SNF_FRAME_HDR + max, 0, CK(CK_CAL, r))))
						return rc;
				} else if (ev[i].type == HAL_EV_TX_DONE) {
					done++;
				}
			}
		}
		t = (double)(ops->now_ns(fw->hal) - t0);
		if (!round || t < best)
			best = t;
	}
	tsum = reps * (t_dma + t_wire);
	tbn = reps * (t_dma > t_wire ? t_dma : t_wire) + (t_dma > t_wire ? t_wire : t_dma);
	s = tsum > tbn ? (best - tbn) / (tsum - tbn) : 1;
	*serial_pm = s <= 0 ? 0 : s >= 1 ? 1000 : (uint32_t)(s * 1000 + 0.5);
	return 0;
}

/*
 * Time reps jobs of one kind, size bytes each, issued back to back into
 * transmit buffers 0..reps-1, and wait for all of them.  The wire job writes
 * the calibration header h in front of the payload; the loopback job sends
 * the frames the wire job left there.  *t is ns per job.  @ret 0 or as
 * cal_wait(), or the engine's refusal.
 */
static int cal_stage(struct nicfw *fw, enum cal_job job, uint32_t size, uint32_t reps,
		     struct snf_hdr *h, double *t)
{
	const struct nic_hal_operations *ops = fw->hal->ops;
	uint64_t t0 = ops->now_ns(fw->hal);
	uint32_t r;
	int rc = 0;

	h->frag_len = size;
	for (r = 0; r < reps && !rc; r++) {
		uint32_t off = fw->tx[r].off;

		switch (job) {
		case CAL_HOST_TX:
		case CAL_HOST_RX:
			rc = ops->dma(fw->hal, HAL_WIN_SCRATCH,
				      job == CAL_HOST_TX ? HAL_DMA_TO_NIC : HAL_DMA_TO_HOST, 0,
				      off + SNF_FRAME_HDR, size, CK(CK_CAL, r));
			break;
		case CAL_WIRE:
			snf_hdr_encode(h, fw->mem + off);
			/* fall through */
		case CAL_WIRE_RX:
			rc = ops->wire_send(fw->hal, off, SNF_FRAME_HDR + size,
					    job == CAL_WIRE_RX ? HAL_TX_LOOPBACK : 0, CK(CK_CAL, r));
			break;
		case CAL_JOBS:
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	rc = cal_wait(fw, job == CAL_HOST_TX || job == CAL_HOST_RX ? HAL_EV_DMA_DONE : HAL_EV_TX_DONE,
		      reps);
	if (rc)
		return rc;
	*t = (double)(ops->now_ns(fw->hal) - t0) / reps;
	return 0;
}

/*
 * Fit a job's n timings t at sizes x into its stage.  "alone" is bw when
 * given (> 0), else the fit's figure for the largest fragment.
 */
static void cal_fit(struct nicfw *fw, enum cal_job job, const double *x, const double *t,
		    uint32_t n, double bw)
{
	struct snf_stage *st = &fw->ctl->stages[cal_stages[job].stage];
	double tmax;

	memset(st, 0, sizeof(*st));
	if (cost_fit_stage(x, t, n, st)) {
		st->a_ns = 0;
		st->b_ns = t[n - 1] / x[n - 1];
	}
	tmax = cost_stage_ns(st, x[n - 1]);
	if (bw <= 0)
		bw = tmax > 0 ? x[n - 1] / tmax * 1e3 : 0;
	st->mbps = bw;
	snprintf(st->name, sizeof(st->name), "%s", cal_stages[job].name);
}

/*
 * Time every stage at each fragment size, CAL_REPS jobs per size, three
 * rounds keeping each size's best (the first round also warms caches and
 * threads), then fit, in two lines where the points show a step (cost.h).
 * The sending stages' "alone" figures come from a longer stream (cal_stream).
 * When the wire engine gathers the payload from host memory (wire_send_host),
 * a pipelined fragment has no host DMA on the sending side: that stage is
 * still timed (store-and-forward uses it, and the overlap is measured with
 * it) but leaves the model, a = b = 0.  The wire stage is timed from NIC
 * memory: a gathered frame is the same one copy by the engine.
 */
int fw_calibrate(struct nicfw *fw)
{
	static const uint32_t sizes_all[] = { 256, 1024, 4096, 8192, 16384, 32768, 49152, 65536 };
	double x[9], tt[CAL_JOBS][9], bw_host, bw_wire;
	uint32_t sizes[9], nsz = 0, i, round, reps, max = fw->ctl->max_frag;
	uint64_t scratch = fw->hal->ops->window(fw->hal, HAL_WIN_SCRATCH);
	struct snf_hdr h = { 0 };
	unsigned j;
	int rc;

	for (i = 0; i < sizeof(sizes_all) / sizeof(sizes_all[0]); i++)
		if (sizes_all[i] < max)
			sizes[nsz++] = sizes_all[i];
	sizes[nsz++] = max;
	if (scratch < max)
		return -ENOMEM;
	reps = fw->ntx < CAL_REPS ? fw->ntx : CAL_REPS;
	memcpy(h.dst, fw->link.mac, 6);
	memcpy(h.src, fw->link.mac, 6);
	h.type = SNF_T_CAL;
	h.src_node = h.dst_node = fw->cfg.node_id;
	for (round = 0; round < CAL_ROUNDS; round++)
		for (i = 0; i < nsz; i++) {
			x[i] = sizes[i];
			for (j = 0; j < CAL_JOBS; j++) {
				double t;

				rc = cal_stage(fw, (enum cal_job)j, sizes[i], reps, &h, &t);
				if (rc)
					return rc;
				if (!round || t < tt[j][i])
					tt[j][i] = t;
			}
		}
	rc = cal_stream(fw, &bw_host, &bw_wire);
	if (rc)
		return rc;
	rc = cal_pipe(fw, tt[CAL_HOST_TX][nsz - 1], tt[CAL_WIRE][nsz - 1], &fw->ctl->serial_pm);
	if (rc)
		return rc;
	cal_fit(fw, CAL_HOST_TX, x, tt[CAL_HOST_TX], nsz, bw_host);
	cal_fit(fw, CAL_WIRE, x, tt[CAL_WIRE], nsz, bw_wire);
	cal_fit(fw, CAL_WIRE_RX, x, tt[CAL_WIRE_RX], nsz, 0);
	cal_fit(fw, CAL_HOST_RX, x, tt[CAL_HOST_RX], nsz, 0);
	if (fw->hal->ops->wire_send_host) {
		struct snf_stage *st = &fw->ctl->stages[cal_stages[CAL_HOST_TX].stage];
		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), "%s", cal_stages[CAL_HOST_TX].name);
	}
	return 0;
}
