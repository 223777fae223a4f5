package io.backplane.bench;

import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * {@code bench strategies}' result: medians and ratios per workload and strategy, the targets of
 * issue 10 judged in the same run, a CSV file and a bar chart (JFreeChart) of the ratios.
 */
final class StrategiesReport {
    static final String MEMCPY = "memcpy 64 KiB (one core)";

    private StrategiesReport() {
    }

    /** One line of the table: medians over the runs, ratio = median of each run's ratio to grant copy. */
    record Row(String workload, String strategy, double rate, String unit, double throughput, String throughputUnit,
               double ratio, double frontNotify, double backNotify, double backendCpuUs, double guestCpuUs) {
    }

    static List<Row> rows(Map<String, List<StrategiesBench.Cell>> cells) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, List<StrategiesBench.Cell>> e : cells.entrySet()) {
            List<StrategiesBench.Cell> c = e.getValue();
            StrategiesBench.Cell one = c.get(0);
            if (one.workload().equals(MEMCPY) && !one.strategy().equals(StrategiesBench.GRANT_COPY)) {
                continue;
            }
            List<StrategiesBench.Cell> base = cells.get(one.workload() + "|" + StrategiesBench.GRANT_COPY);
            double rate = Options.median(values(c, StrategiesBench.Cell::rate));
            boolean frames = one.unit().equals("frames/s");
            rows.add(new Row(one.workload(), one.workload().equals(MEMCPY) ? "-" : one.strategy(), rate, one.unit(),
                    frames ? rate * one.bytesPerOp() * 8 / 1e9 : rate, frames ? "Gbit/s" : "MB/s",
                    Options.medianRatio(values(c, StrategiesBench.Cell::rate), values(base, StrategiesBench.Cell::rate)),
                    Options.median(values(c, StrategiesBench.Cell::frontNotify)),
                    Options.median(values(c, StrategiesBench.Cell::backNotify)),
                    Options.median(values(c, StrategiesBench.Cell::backendCpuUs)),
                    Options.median(values(c, StrategiesBench.Cell::guestCpuUs))));
        }
        return rows;
    }

    private static double[] values(List<StrategiesBench.Cell> cells, java.util.function.ToDoubleFunction<StrategiesBench.Cell> f) {
        return cells.stream().mapToDouble(f).toArray();
    }

    static void print(List<Row> rows, Map<String, List<StrategiesBench.Cell>> cells, PrintStream out) {
        out.println();
        out.println("| workload | strategy | rate | throughput | vs grant copy | frontend notifications / req | "
                + "backend notifications / req | backend CPU µs / req | guest CPU µs / req |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "| %s | %s | %.0f %s | %.2f %s | %.2f | %s | %s | %s | %s |%n", r.workload(), r.strategy(),
                    r.rate(), r.unit(), r.throughput(), r.throughputUnit(), r.ratio(), num(r.frontNotify(), 4),
                    num(r.backNotify(), 4), num(r.backendCpuUs(), 2), num(r.guestCpuUs(), 2));
        }
        out.println();
        target(out, cells, "netif TX 64 B", 3.6);
        target(out, cells, "netif TX 64 KiB GSO", 2.2);
        List<StrategiesBench.Cell> zc = cells.get("blkif write 64 KiB|zero-copy");
        List<StrategiesBench.Cell> mem = cells.get(MEMCPY + "|" + StrategiesBench.GRANT_COPY);
        if (zc != null && mem != null) {
            double r = Options.medianRatio(values(zc, StrategiesBench.Cell::rate), values(mem, StrategiesBench.Cell::rate));
            out.printf(Locale.ROOT, "target: zero-copy blkif write 64 KiB >= 0.8 x one core's memcpy: %.2f, %s%n", r,
                    r >= 0.8 ? "met" : "missed");
        }
    }

    /** The best strategy's ratio to grant copy on {@code workload}, against the target. */
    private static void target(PrintStream out, Map<String, List<StrategiesBench.Cell>> cells, String workload, double want) {
        List<StrategiesBench.Cell> base = cells.get(workload + "|" + StrategiesBench.GRANT_COPY);
        if (base == null) {
            return;
        }
        String best = null;
        double bestRatio = 0;
        for (String s : StrategiesBench.STRATEGIES) {
            List<StrategiesBench.Cell> c = cells.get(workload + "|" + s);
            double r = Options.medianRatio(values(c, StrategiesBench.Cell::rate), values(base, StrategiesBench.Cell::rate));
            if (!s.equals(StrategiesBench.GRANT_COPY) && r > bestRatio) {
                bestRatio = r;
                best = s;
            }
        }
        out.printf(Locale.ROOT, "target: best netif strategy on %s >= %.1f x grant copy: %s %.2f, %s%n", workload, want, best,
                bestRatio, bestRatio >= want ? "met" : "missed");
    }

    private static String num(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static void writeCsv(List<Row> rows, Path file) throws IOException {
        StringBuilder b = new StringBuilder("workload,strategy,rate,rate_unit,throughput,throughput_unit,ratio_vs_grant_copy,"
                + "frontend_notifications_per_req,backend_notifications_per_req,backend_cpu_us_per_req,guest_cpu_us_per_req\n");
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%s,%s,%.1f,%s,%.3f,%s,%.3f,%s,%s,%s,%s%n", r.workload(), r.strategy(),
                    r.rate(), r.unit(), r.throughput(), r.throughputUnit(), r.ratio(), num(r.frontNotify(), 4),
                    num(r.backNotify(), 4), num(r.backendCpuUs(), 3), num(r.guestCpuUs(), 3)).replace(",-,", ",,"));
        }
        Files.writeString(file, b.toString());
    }

    /** Bars: each strategy's ratio to grant copy (1.0) per workload. */
    static void chart(List<Row> rows, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Row r : rows) {
            if (!r.workload().equals(MEMCPY)) {
                data.addValue(r.ratio(), r.strategy(), r.workload());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Ring strategies vs legacy grant copy (same run, sim hypervisor)",
                "workload", "throughput / grant copy's", data, PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setBackgroundPaint(Color.WHITE);
        chart.getCategoryPlot().setRangeGridlinePaint(Color.GRAY);
        chart.getCategoryPlot().getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 1000, 560);
    }
}
