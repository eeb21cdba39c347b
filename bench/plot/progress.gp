# Guest progress (pages the workload has processed, summed over vCPUs) over
# time since resume, per policy: how much work the guest gets done while its
# memory is still arriving.
load "bench/plot/common.gpi"
set output outdir."/bench-progress.png"
set multiplot layout 3,1 title "guest progress during a restore (file source, 1 ms per page, 1 vCPU, repetition 1)"
set xlabel "time since resume (s)"
set ylabel "pages processed"
do for [w in "syscall scan mixed"] {
	f = datadir."/progress-".w.".dat"
	set title w
	if (exists_file(f)) {
		nb = nblocks(f)
		nm = bnames(f)
		plot for [i=0:nb-1] f index i using 1:2 with steps lw 2 lc rgb pcolor(word(nm, i + 1)) title columnheader(1)
	} else {
		unset key
		set label 1 "no progress series in the stats" at graph 0.3, graph 0.5
		unset logscale; plot [0:1][0:1] -1 notitle
		unset label 1
		set key
	}
}
unset multiplot
