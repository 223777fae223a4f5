package io.backplane.blkback;

import static io.backplane.ring.layout.BlkifConstants.BLKIF_DISCARD_SECURE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_MAX_SEGMENTS_PER_REQUEST;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_DISCARD;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_FLUSH_DISKCACHE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_INDIRECT;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_READ;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_WRITE;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_OP_WRITE_BARRIER;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_EOPNOTSUPP;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_ERROR;
import static io.backplane.ring.layout.BlkifConstants.BLKIF_RSP_OKAY;
import static io.backplane.ring.layout.BlkifConstants.SECTORS_PER_PAGE;
import static io.backplane.ring.layout.BlkifConstants.SEGS_PER_INDIRECT_FRAME;

import io.backplane.api.hypervisor.DomainConfig;
import io.backplane.api.ring.SegmentIo;
import io.backplane.ring.BlkifRequest;
import io.backplane.ring.layout.BlkifIndirectRequestDescriptor;
import io.backplane.ring.layout.BlkifRequestDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Linux blkback's request validation (blkback.c {@code __do_block_io_op},
 * {@code dispatch_rw_block_io}, {@code xen_blkbk_parse_indirect}, {@code dispatch_discard_io},
 * {@code xen_vbd_translate}) on the local copy of a request. Returns BLKIF_RSP_OKAY with
 * {@code out} filled, or the status to answer at once. Never trusts a field twice: the copy is
 * what is checked and what is used.
 */
final class RequestChecks {
    private final VbdFeatures features;
    private final long diskSectors;
    private final boolean readonly;
    /** One indirect page at a time, copied out of the guest when the strategy gives no view of it. */
    private final ByteBuffer indirectPage = ByteBuffer.allocateDirect(DomainConfig.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    /**
     * The segment descriptors of one indirect page, taken out of it with one bulk read and parsed
     * here: one call per page instead of three buffer calls per segment (a 128 KiB request has 32
     * segments, and a fresh or emulated JVM pays for every call).
     */
    private final byte[] descriptors = new byte[SEGS_PER_INDIRECT_FRAME * BlkifRequestDescriptor.SEGMENT_LENGTH];
    /** Why the last request was refused, for the log. */
    private String reason = "";

    RequestChecks(VbdFeatures features, long diskSectors, boolean readonly) {
        this.features = features;
        this.diskSectors = diskSectors;
        this.readonly = readonly;
    }

    String reason() {
        return reason;
    }

    int check(BlkifRequest req, SegmentIo io, PhysicalRequest out) {
        out.id = req.id();
        int op = req.operation();
        out.responseOperation = op;
        out.segments = 0;
        out.sectors = 0;
        out.secureDiscard = false;
        switch (op) {
            case BLKIF_OP_READ -> out.kind = PhysicalRequest.Kind.READ;
            case BLKIF_OP_WRITE -> out.kind = PhysicalRequest.Kind.WRITE;
            case BLKIF_OP_WRITE_BARRIER -> out.kind = PhysicalRequest.Kind.BARRIER;
            case BLKIF_OP_FLUSH_DISKCACHE -> out.kind = PhysicalRequest.Kind.FLUSH;
            case BLKIF_OP_DISCARD -> {
                return checkDiscard(req, out);
            }
            case BLKIF_OP_INDIRECT -> {
                int indirectOp = req.indirectOp();
                out.responseOperation = indirectOp;
                if (indirectOp != BLKIF_OP_READ && indirectOp != BLKIF_OP_WRITE) {
                    return refuse(BLKIF_RSP_ERROR, "invalid indirect operation " + indirectOp);
                }
                if (features.maxIndirectSegments() == 0) {
                    // Not offered: the frontend may not send it (dispatch_other_io's answer).
                    out.responseOperation = op;
                    return refuse(BLKIF_RSP_EOPNOTSUPP, "indirect request, but feature-max-indirect-segments is 0");
                }
                out.kind = indirectOp == BLKIF_OP_READ ? PhysicalRequest.Kind.READ : PhysicalRequest.Kind.WRITE;
            }
            default -> {
                return refuse(BLKIF_RSP_EOPNOTSUPP, "unknown operation " + op);
            }
        }
        if ((out.kind == PhysicalRequest.Kind.FLUSH && !features.flushCache())
                || (out.kind == PhysicalRequest.Kind.BARRIER && !features.barrier())) {
            return refuse(BLKIF_RSP_EOPNOTSUPP, (out.kind == PhysicalRequest.Kind.FLUSH
                    ? "flush, but feature-flush-cache" : "barrier, but feature-barrier") + " is not offered");
        }
        boolean indirect = op == BLKIF_OP_INDIRECT;
        int nseg = indirect ? req.indirectNrSegments() : req.nrSegments();
        boolean flushing = out.kind == PhysicalRequest.Kind.FLUSH || out.kind == PhysicalRequest.Kind.BARRIER;
        int max = indirect ? features.maxIndirectSegments() : BLKIF_MAX_SEGMENTS_PER_REQUEST;
        if ((nseg == 0 && !flushing) || nseg > max) {
            return refuse(BLKIF_RSP_ERROR, "bad number of segments in request (" + nseg + ")");
        }
        out.sector = req.sectorNumber();
        out.segments = nseg;
        if (indirect) {
            int status = readIndirectSegments(req, nseg, io, out);
            if (status != BLKIF_RSP_OKAY) {
                return status;
            }
        } else {
            for (int i = 0; i < nseg; i++) {
                if (!segment(out, i, req.segmentGref(i), req.segmentFirstSect(i), req.segmentLastSect(i))) {
                    return refuse(BLKIF_RSP_ERROR, "segment " + i + " has first_sect " + req.segmentFirstSect(i)
                            + ", last_sect " + req.segmentLastSect(i));
                }
            }
        }
        return translate(out.kind != PhysicalRequest.Kind.READ, out);
    }

    private int checkDiscard(BlkifRequest req, PhysicalRequest out) {
        out.kind = PhysicalRequest.Kind.DISCARD;
        out.sector = req.sectorNumber();
        out.sectors = req.discardNrSectors();
        out.secureDiscard = (req.discardFlag() & BLKIF_DISCARD_SECURE) != 0;
        // Linux's dispatch_discard_io checks access first: a read-only vbd or a range beyond the
        // disk is BLKIF_RSP_ERROR whether or not discard is offered (libxl offers none read-only).
        int access = translate(true, out);
        if (access != BLKIF_RSP_OKAY) {
            return access;
        }
        if (!features.discard()) {
            return refuse(BLKIF_RSP_EOPNOTSUPP, "discard, but feature-discard is not offered");
        }
        if (out.secureDiscard && !features.discardSecure()) {
            // Linux would quietly do a plain discard; refusing is the honest answer for a file.
            return refuse(BLKIF_RSP_EOPNOTSUPP, "secure discard, but discard-secure is not offered");
        }
        return BLKIF_RSP_OKAY;
    }

    /**
     * xen_blkbk_parse_indirect: the segments live in granted pages, each field read once. A page
     * the strategy gives in place (a persistent grant, as Linux keeps indirect pages persistent
     * too) is read there; otherwise it is copied out first. Either way the fields are read once
     * into {@code out}, which is what is checked and used.
     */
    private int readIndirectSegments(BlkifRequest req, int nseg, SegmentIo io, PhysicalRequest out) {
        int pages = BlkifIndirectRequestDescriptor.indirectPages(nseg);
        for (int p = 0; p < pages; p++) {
            int inPage = Math.min(SEGS_PER_INDIRECT_FRAME, nseg - p * SEGS_PER_INDIRECT_FRAME);
            int gref = req.indirectGref(p);
            int bytes = inPage * BlkifRequestDescriptor.SEGMENT_LENGTH;
            // In place: valid until the strategy's next flush, which the worker calls only
            // between requests (the copy below ends its batch at once: no view is left open).
            // Plain reads: the frontend wrote the page before publishing req_prod, which the
            // worker read with acquire (ring.h's rmb after reading req_prod).
            ByteBuffer page = io.direct(gref, 0, bytes, false);
            if (page == null) {
                int status = io.read(gref, 0, indirectPage, 0, bytes);
                io.flush();
                if (status != 0) {
                    return refuse(BLKIF_RSP_ERROR, "indirect page " + p + " (gref " + gref + ") refused: GNTST " + status);
                }
                page = indirectPage;
            }
            page.get(0, descriptors, 0, bytes);
            for (int i = 0; i < inPage; i++) {
                int at = i * BlkifRequestDescriptor.SEGMENT_LENGTH;
                int n = p * SEGS_PER_INDIRECT_FRAME + i;
                int first = Byte.toUnsignedInt(descriptors[at + BlkifRequestDescriptor.SEGMENT_FIRST_SECT_OFFSET]);
                int last = Byte.toUnsignedInt(descriptors[at + BlkifRequestDescriptor.SEGMENT_LAST_SECT_OFFSET]);
                if (!segment(out, n, littleEndianInt(descriptors, at + BlkifRequestDescriptor.SEGMENT_GREF_OFFSET), first, last)) {
                    return refuse(BLKIF_RSP_ERROR, "indirect segment " + n + " has first_sect " + first + ", last_sect " + last);
                }
            }
        }
        return BLKIF_RSP_OKAY;
    }

    /** The blkif ABI is little-endian (x86_64-abi). */
    private static int littleEndianInt(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }

    private static boolean segment(PhysicalRequest out, int i, int gref, int first, int last) {
        if (last >= SECTORS_PER_PAGE || last < first) {
            return false;
        }
        out.grefs[i] = gref;
        out.offsets[i] = first * VbdImage.SECTOR_SIZE;
        out.lengths[i] = (last - first + 1) * VbdImage.SECTOR_SIZE;
        out.sectors += last - first + 1;
        return true;
    }

    /** xen_vbd_translate: writes to a read-only vbd and ranges beyond the image are refused. */
    private int translate(boolean writing, PhysicalRequest out) {
        if (writing && readonly) {
            return refuse(BLKIF_RSP_ERROR, "write access to a read-only vbd");
        }
        if (out.sectors != 0) {
            long end = out.sector + out.sectors;
            if (Long.compareUnsigned(end, out.sector) < 0 || Long.compareUnsigned(end, diskSectors) > 0) {
                return refuse(BLKIF_RSP_ERROR, "access beyond the end of the disk: sectors ["
                        + Long.toUnsignedString(out.sector) + "," + Long.toUnsignedString(end) + ") of " + diskSectors);
            }
        }
        return BLKIF_RSP_OKAY;
    }

    private int refuse(int status, String why) {
        reason = why;
        return status;
    }
}
