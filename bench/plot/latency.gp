# Completion time vs the source's per-request latency, one panel per workload,
# one line per policy (median, bars min..max), and the ideal.
load "bench/plot/common.gpi"
set output outdir."/bench-latency.png"
set multiplot layout 2,2 title "restore completion time vs fetch latency (file source, 1 vCPU; median, bars = min..max)"
set xlabel "fetch latency per page (ms)"
set ylabel "completion time (s)"
set logscale y
set xrange [-0.2:5.4]
set key bottom right
do for [w in "scan syscall atomic mixed"] {
	f = datadir."/latency-".w.".dat"
	set title w
	if (exists_file(f)) {
		nb = nblocks(f)
		nm = bnames(f)
		plot for [i=0:nb-1] f index i using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 0.8 \
			lc rgb pcolor(word(nm, i + 1)) title columnheader(1)
	} else {
		unset key
		unset logscale y
		set label 1 "not measured" at graph 0.4, graph 0.5
		unset logscale; plot [0:1][0:1] -1 notitle
		unset label 1
		set key
		set logscale y
	}
}
unset multiplot
