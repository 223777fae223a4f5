package io.backplane.ring;

import io.backplane.ring.layout.AlignedSlotDescriptor;
import io.backplane.ring.layout.SeparateRingsDescriptor;
import io.backplane.ring.layout.SharedRingDescriptor;
import io.backplane.ring.layout.SplitIndexDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A ring laid out with any combination of Backplane's layout features ({@link RingShape}), as
 * docs/ring-layouts.md specifies and ring_layouts.h's {@code bp_ring_layout_init} computes:
 * <ul>
 * <li>shared slots: one header (ring.h's 64 bytes, or {@link SplitIndexDescriptor}'s 256), then
 *     one array of slots of {@code max(request, response)} bytes, padded when aligned;</li>
 * <li>separate rings: the request ring over the first {@code pages} pages, the response ring over
 *     as many after it, each with its {@link SeparateRingsDescriptor} header and its own slots.</li>
 * </ul>
 * Entries are the most of each direction that fit, rounded down to a power of two (__RING_SIZE),
 * the same for both directions: one free-running index space as in ring.h.
 */
final class FeatureRingLayout implements RingLayout {

    private final RingShape shape;
    private final int pages;
    private final int entries;
    private final int bytes;
    private final int reqProd;
    private final int reqEvent;
    private final int rspProd;
    private final int rspEvent;
    private final int reqSlots;
    private final int reqStride;
    private final int rspSlots;
    private final int rspStride;
    private final int[] zeroed;

    private FeatureRingLayout(RingShape shape, int pages, int requestLength, int responseLength, int align) {
        this.shape = shape;
        this.pages = pages;
        int ringBytes = Math.multiplyExact(pages, SharedRingDescriptor.XEN_PAGE_SIZE);
        List<Integer> headers = new ArrayList<>();   // {offset, length} of each header
        if (shape.separateRings()) {
            int rsp = SeparateRingsDescriptor.responseRingOffset(pages);
            int event = shape.splitIndexes() ? SeparateRingsDescriptor.SPLIT_EVENT_OFFSET : SeparateRingsDescriptor.EVENT_OFFSET;
            int header = shape.splitIndexes() ? SeparateRingsDescriptor.SPLIT_ENTRIES_OFFSET : SeparateRingsDescriptor.ENTRIES_OFFSET;
            reqProd = SeparateRingsDescriptor.PROD_OFFSET;
            reqEvent = event;
            rspProd = rsp + SeparateRingsDescriptor.PROD_OFFSET;
            rspEvent = rsp + event;
            reqSlots = header;
            rspSlots = rsp + header;
            reqStride = AlignedSlotDescriptor.slotLength(requestLength, align);
            rspStride = AlignedSlotDescriptor.slotLength(responseLength, align);
            entries = Math.min(fit(ringBytes - header, reqStride), fit(ringBytes - header, rspStride));
            bytes = 2 * ringBytes;
            headers.addAll(List.of(0, header, rsp, header));
        } else {
            int header;
            if (shape.splitIndexes()) {
                reqProd = SplitIndexDescriptor.REQ_PROD_OFFSET;
                reqEvent = SplitIndexDescriptor.REQ_EVENT_OFFSET;
                rspProd = SplitIndexDescriptor.RSP_PROD_OFFSET;
                rspEvent = SplitIndexDescriptor.RSP_EVENT_OFFSET;
                header = SplitIndexDescriptor.HEADER_LENGTH;
            } else {
                reqProd = SharedRingDescriptor.REQ_PROD_OFFSET;
                reqEvent = SharedRingDescriptor.REQ_EVENT_OFFSET;
                rspProd = SharedRingDescriptor.RSP_PROD_OFFSET;
                rspEvent = SharedRingDescriptor.RSP_EVENT_OFFSET;
                header = SharedRingDescriptor.HEADER_LENGTH;
            }
            reqSlots = header;
            rspSlots = header;
            reqStride = AlignedSlotDescriptor.slotLength(SharedRingDescriptor.entryLength(requestLength, responseLength), align);
            rspStride = reqStride;
            entries = fit(ringBytes - header, reqStride);
            bytes = ringBytes;
            headers.addAll(List.of(0, header));
        }
        if (entries == 0) {
            throw new IllegalArgumentException(describe(shape, pages, 0, reqStride, rspStride)
                    + ": not one slot fits in " + pages + (pages == 1 ? " page" : " pages"));
        }
        zeroed = zeroedHeaderBytes(headers, new int[] {reqProd, reqEvent, rspProd, rspEvent});
    }

    static FeatureRingLayout of(RingShape shape, int pages, int requestLength, int responseLength, int align) {
        if (pages <= 0) {
            throw new IllegalArgumentException("a ring needs at least one page, not " + pages);
        }
        if (requestLength <= 0 || responseLength <= 0) {
            throw new IllegalArgumentException("entry lengths must be positive, not " + requestLength + "/" + responseLength);
        }
        return new FeatureRingLayout(shape, pages, requestLength, responseLength, align);
    }

    private static int fit(int room, int stride) {
        return room < stride ? 0 : SharedRingDescriptor.roundDownToPowerOfTwo(room / stride);
    }

    /** The header bytes other than the four indexes, as {offset, length} ranges (SHARED_RING_INIT's memset). */
    private static int[] zeroedHeaderBytes(List<Integer> headers, int[] indexes) {
        Arrays.sort(indexes);
        List<Integer> ranges = new ArrayList<>();
        for (int h = 0; h < headers.size(); h += 2) {
            int at = headers.get(h);
            int end = at + headers.get(h + 1);
            for (int index : indexes) {
                if (index >= at && index < end) {
                    if (index > at) {
                        ranges.add(at);
                        ranges.add(index - at);
                    }
                    at = index + 4;
                }
            }
            if (at < end) {
                ranges.add(at);
                ranges.add(end - at);
            }
        }
        return ranges.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int entries() {
        return entries;
    }

    @Override
    public int bytes() {
        return bytes;
    }

    @Override
    public int requestProducerOffset() {
        return reqProd;
    }

    @Override
    public int requestEventOffset() {
        return reqEvent;
    }

    @Override
    public int responseProducerOffset() {
        return rspProd;
    }

    @Override
    public int responseEventOffset() {
        return rspEvent;
    }

    @Override
    public int requestSlotsOffset() {
        return reqSlots;
    }

    @Override
    public int requestSlotStride() {
        return reqStride;
    }

    @Override
    public int responseSlotsOffset() {
        return rspSlots;
    }

    @Override
    public int responseSlotStride() {
        return rspStride;
    }

    @Override
    public int[] zeroedOnInit() {
        return zeroed.clone();
    }

    @Override
    public String describe() {
        return describe(shape, pages, entries, reqStride, rspStride);
    }

    private static String describe(RingShape shape, int pages, int entries, int reqStride, int rspStride) {
        String size = pages + (pages == 1 ? " page" : " pages");
        return shape.describe() + "/" + (shape.separateRings() ? "2x" + size : size) + "/" + entries + "x"
                + (reqStride == rspStride ? Integer.toString(reqStride) : reqStride + "+" + rspStride);
    }

    @Override
    public String toString() {
        return describe();
    }
}
