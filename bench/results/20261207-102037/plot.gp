set terminal pngcairo size 1100,520 noenhanced
set output '/work/main/bench/results/20261207-102037/auth.png'
set title '/auth req/s, median of 5, wrk -c64 (20261207-102037)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'requests/s'
set xtics rotate by -30
set key top right
set grid ytics
plot '/work/main/bench/results/20261207-102037/plot.dat' using 2:xtic(1) title 'nginx (ceiling)', '' using 3 title 'revokd', '' using 4 title 'revokd before', '' using 5 title 'Go sync.Map peer', '' using 6 title 'Node fast-jwt peer'
