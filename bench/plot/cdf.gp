# How long the faults that stalled a vCPU waited for their page (the fault
# service's histogram: userfaultfd event -> page installed), as a cumulative
# distribution per policy; the legend says how many such faults there were
# (asynchronous faults do not stall the vCPU and are not in it).
load "bench/plot/common.gpi"
set output outdir."/bench-fault-cdf.png"
set multiplot layout 2,1 title "waits of the faults that stalled the vCPU (policy:count; file source, 1 ms per page, 1 vCPU, repetition 1)"
set xlabel "fault wait (µs)"
set ylabel "fraction of faults"
set logscale x
set yrange [0:1.02]
set key bottom right
do for [w in "syscall scan"] {
	f = datadir."/cdf-".w.".dat"
	set title w
	if (exists_file(f)) {
		nb = nblocks(f)
		nm = bnames(f)
		plot for [i=0:nb-1] f index i using 1:2 with linespoints lw 2 pt 7 ps 0.6 lc rgb pcolor(word(nm, i + 1)) title columnheader(1)
	} else {
		unset key
		set label 1 "not measured" at graph 0.4, graph 0.5
		unset logscale; plot [0:1][0:1] -1 notitle
		unset label 1
		set key
		set logscale x
	}
}
unset multiplot
