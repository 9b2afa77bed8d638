package calibrate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distmv"
)

// Particle is one accepted draw of the parameters.
type Particle struct {
	Theta    []float64 // the parameters' values, in the order of Spec.Params
	Z        []float64 // the same in the transformed space (prior.go)
	Weight   float64   // normalised importance weight
	Distance float64   // distance of its simulation to the observations
	Attempts int       // simulations its slot took until one was accepted
}

// Generation is one population of particles of ABC-SMC.
type Generation struct {
	Index      int
	Tolerance  float64 // accepted distances are at most this (+Inf for generation 0)
	Attempts   int     // simulations run
	Acceptance float64 // particles / attempts
	Particles  []Particle
}

// Options control Run.
type Options struct {
	Run     RunFunc // runs one simulation
	Workers int     // simulations at once; 0 means one per CPU
	Version string  // the program's version, recorded in the outputs
	// Progress is called after each simulation of a generation (index
	// gen; accepted particles so far, of particles; simulations so far),
	// and with gen = -1 during the posterior predictive draws.
	Progress func(gen, accepted, particles, attempts int)
}

// Why a calibration stopped.
const (
	StopMaxGenerations = "max_generations"
	StopMinTolerance   = "min_tolerance"
	StopMinAcceptance  = "min_acceptance"
)

// Result is a finished calibration: its generations (the last is the
// posterior), why it stopped, and the posterior predictive draws.
type Result struct {
	Plan        *Plan
	Generations []Generation
	Stop        string
	StopDetail  string // one sentence for the report
	// Predictive[k][i][j] is target i's statistic (point j) of the k-th
	// posterior predictive draw (NaN: no value); Noisy adds the target's
	// error model (normal noise of its sd), as an observation would.
	Predictive [][][]float64
	Noisy      [][][]float64
	version    string
}

// Posterior is the last generation.
func (r *Result) Posterior() *Generation { return &r.Generations[len(r.Generations)-1] }

// mix is splitmix64's finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Streams of seedFor.
const (
	streamSim        = 1 // a simulation's seed
	streamProposal   = 2 // the draws that make a proposal
	streamPredictSim = 3 // a predictive draw's simulation
	streamPredict    = 4 // a predictive draw's particle and noise
)

// seedFor derives a seed from the calibration seed and (stream,
// generation, particle, attempt): every simulation and every proposal has
// its own, whatever the number of workers and however the calibration was
// interrupted and resumed.
func seedFor(seed uint64, stream, gen, particle, attempt uint64) uint64 {
	h := mix(seed)
	for _, x := range []uint64{stream, gen, particle, attempt} {
		h = mix(h ^ mix(x))
	}
	return h
}

func rngFor(seed uint64, stream, gen, particle, attempt uint64) *rand.Rand {
	a := seedFor(seed, stream, gen, particle, attempt)
	return rand.New(rand.NewPCG(a, mix(a)))
}

// parallel calls fn(i) for i in [0, n), workers at once; the first error
// stops it.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Run runs the calibration in the folder dir (docs/calibrate.md): it
// continues from the generations stored there (state.json, gen-NNN.csv),
// stores each new generation as it completes, and ends with the posterior
// predictive draws. The result depends only on the inputs and the
// calibration seed, never on Workers or on where it was interrupted.
// When ctx is cancelled Run stops and returns ctx's error; the complete
// generations stay in dir.
func Run(ctx context.Context, p *Plan, dir string, opt Options) (*Result, error) {
	st, gens, err := loadState(dir, p, opt.Version)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: p, Generations: gens, Stop: st.Stop, StopDetail: st.StopDetail, version: opt.Version}
	s := p.Spec
	for res.Stop == "" {
		t := len(res.Generations)
		g, abandoned, err := p.generation(ctx, opt, res.Generations)
		if err != nil {
			return nil, err
		}
		if abandoned {
			res.Stop = StopMinAcceptance
			res.StopDetail = fmt.Sprintf("generation %d was abandoned: it accepted fewer than min_acceptance = %g of its simulations (tolerance %.4g); the posterior is generation %d", t, s.MinAcceptance, g.Tolerance, t-1)
		} else {
			res.Generations = append(res.Generations, *g)
			switch {
			case t > 0 && g.Tolerance <= s.MinTolerance:
				res.Stop = StopMinTolerance
				res.StopDetail = fmt.Sprintf("generation %d reached min_tolerance = %g", t, s.MinTolerance)
			case t > 0 && g.Acceptance < s.MinAcceptance:
				res.Stop = StopMinAcceptance
				res.StopDetail = fmt.Sprintf("generation %d accepted %.3g of its simulations, below min_acceptance = %g", t, g.Acceptance, s.MinAcceptance)
			case t+1 >= s.MaxGenerations:
				res.Stop = StopMaxGenerations
				res.StopDetail = fmt.Sprintf("max_generations = %d reached", s.MaxGenerations)
			}
		}
		st.Stop, st.StopDetail = res.Stop, res.StopDetail
		if err := storeGeneration(dir, st, res.Generations, !abandoned); err != nil {
			return nil, err
		}
	}
	if err := p.predict(ctx, opt, res); err != nil {
		return nil, err
	}
	return res, nil
}

// generation runs generation t = len(prev): from the prior for t = 0 (every
// draw accepted), else by perturbing particles of the last generation. It
// reports abandoned when the generation ran out of its budget of
// simulations (particles / min_acceptance) before filling.
func (p *Plan) generation(ctx context.Context, opt Options, prev []Generation) (*Generation, bool, error) {
	s := p.Spec
	n, d := s.Particles, len(s.Params)
	t := len(prev)
	g := &Generation{Index: t, Tolerance: math.Inf(1), Particles: make([]Particle, n)}
	var k *kernel
	if t > 0 {
		last := &prev[t-1]
		g.Tolerance = max(tolerance(last, s.Quantile), s.MinTolerance)
		var err error
		if k, err = newKernel(last); err != nil {
			return nil, false, err
		}
	}
	budget := int(math.Ceil(float64(n) / s.MinAcceptance))
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	var mu sync.Mutex
	accepted, ran := 0, 0
	for round := 0; len(pending) > 0; round++ {
		if g.Attempts >= budget {
			return g, true, nil
		}
		ok := make([]bool, len(pending))
		err := parallel(ctx, opt.Workers, len(pending), func(q int) error {
			i := pending[q]
			rng := rngFor(s.Seed, streamProposal, uint64(t), uint64(i), uint64(round))
			theta, z := make([]float64, d), make([]float64, d)
			if t == 0 {
				for m := range s.Params {
					theta[m] = s.Params[m].priorDraw(rng.Float64())
					z[m] = s.Params[m].toZ(theta[m])
				}
			} else {
				k.propose(rng, z)
				for m := range s.Params {
					theta[m] = s.Params[m].fromZ(z[m])
				}
			}
			seed := seedFor(s.Seed, streamSim, uint64(t), uint64(i), uint64(round))
			x, err := p.simulate(ctx, opt, theta, seed, fmt.Sprintf("gen-%03d-particle-%05d-attempt-%d", t, i, round))
			if err != nil {
				return err
			}
			dist := s.distance(x)
			acc := t == 0 || (dist <= g.Tolerance && !math.IsInf(dist, 1))
			mu.Lock()
			defer mu.Unlock()
			ran++
			if acc {
				g.Particles[i] = Particle{Theta: theta, Z: z, Distance: dist, Attempts: round + 1}
				ok[q] = true
				accepted++
			}
			if opt.Progress != nil {
				opt.Progress(t, accepted, n, ran)
			}
			return nil
		})
		if err != nil {
			return nil, false, err
		}
		g.Attempts += len(pending)
		var left []int
		for q, i := range pending {
			if !ok[q] {
				left = append(left, i)
			}
		}
		pending = left
	}
	g.Acceptance = float64(n) / float64(g.Attempts)
	g.weigh(k, s)
	return g, false, nil
}

// tolerance is the quantile q of the last generation's distances.
func tolerance(last *Generation, q float64) float64 {
	ds := make([]float64, len(last.Particles))
	for i, pt := range last.Particles {
		ds[i] = pt.Distance
	}
	sort.Float64s(ds)
	return stat.Quantile(q, stat.Empirical, ds, nil)
}

// weigh sets the importance weights: for generation 0 (k nil) equal; else
// prior density / Σ_j w_j K(z | z_j), both in the transformed space,
// normalised.
func (g *Generation) weigh(k *kernel, s *Spec) {
	n := len(g.Particles)
	if k == nil {
		for i := range g.Particles {
			g.Particles[i].Weight = 1 / float64(n)
		}
		return
	}
	logw := make([]float64, n)
	diff := make([]float64, len(s.Params))
	terms := make([]float64, len(k.from))
	for i := range g.Particles {
		pt := &g.Particles[i]
		var lp float64
		for m := range s.Params {
			lp += s.Params[m].logPriorZ(pt.Z[m])
		}
		for j, a := range k.from {
			for m := range diff {
				diff[m] = pt.Z[m] - a.Z[m]
			}
			terms[j] = math.Log(a.Weight) + k.norm.LogProb(diff)
		}
		logw[i] = lp - logSumExp(terms)
	}
	top := math.Inf(-1)
	for _, l := range logw {
		top = max(top, l)
	}
	var sum float64
	for i := range logw {
		logw[i] = math.Exp(logw[i] - top)
		sum += logw[i]
	}
	for i := range g.Particles {
		g.Particles[i].Weight = logw[i] / sum
	}
}

func logSumExp(x []float64) float64 {
	top := math.Inf(-1)
	for _, v := range x {
		top = max(top, v)
	}
	if math.IsInf(top, -1) {
		return top
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - top)
	}
	return top + math.Log(s)
}

// kernel is the perturbation kernel of a generation: pick a particle of
// the last generation by weight, add a multivariate normal step of twice
// the particles' weighted covariance (Beaumont et al. 2009), in the
// transformed space.
type kernel struct {
	from []Particle
	cum  []float64 // cumulative weights
	chol mat.Cholesky
	norm *distmv.Normal // zero mean, the kernel's covariance: its density
}

func newKernel(last *Generation) (*kernel, error) {
	n := len(last.Particles)
	d := len(last.Particles[0].Z)
	k := &kernel{from: last.Particles, cum: make([]float64, n)}
	x := mat.NewDense(n, d, nil)
	w := make([]float64, n)
	var c float64
	for i, pt := range last.Particles {
		x.SetRow(i, pt.Z)
		// gonum's weighted covariance takes frequency weights (divides by
		// their sum - 1): scale the normalised weights to sum to n.
		w[i] = pt.Weight * float64(n)
		c += pt.Weight
		k.cum[i] = c
	}
	var cov mat.SymDense
	stat.CovarianceMatrix(&cov, x, w)
	cov.ScaleSym(2, &cov)
	// A population collapsed onto one point (or a line) has a singular
	// covariance: widen it a little until it has a Cholesky factor.
	jitter := 1e-9
	for !k.chol.Factorize(&cov) {
		if jitter > 1 {
			return nil, fmt.Errorf("generation %d: the particles' covariance has no Cholesky factor", last.Index)
		}
		for m := range d {
			cov.SetSym(m, m, cov.At(m, m)+jitter)
		}
		jitter *= 10
	}
	k.norm = distmv.NewNormalChol(make([]float64, d), &k.chol, nil)
	return k, nil
}

// propose draws a proposal into z.
func (k *kernel) propose(rng *rand.Rand, z []float64) {
	u := rng.Float64() * k.cum[len(k.cum)-1]
	j := sort.SearchFloat64s(k.cum, u)
	j = min(j, len(k.from)-1)
	for k.from[j].Weight == 0 && j > 0 { // never pick a particle of weight 0
		j--
	}
	d := len(z)
	step := mat.NewVecDense(d, nil)
	for m := range d {
		step.SetVec(m, rng.NormFloat64())
	}
	var l mat.TriDense
	k.chol.LTo(&l)
	var out mat.VecDense
	out.MulVec(&l, step)
	for m := range d {
		z[m] = k.from[j].Z[m] + out.AtVec(m)
	}
}

// predict runs the posterior predictive draws: each picks a particle of
// the posterior by weight and simulates it with a seed of its own.
func (p *Plan) predict(ctx context.Context, opt Options, res *Result) error {
	s := p.Spec
	post := res.Posterior()
	cum := make([]float64, len(post.Particles))
	var c float64
	for i, pt := range post.Particles {
		c += pt.Weight
		cum[i] = c
	}
	res.Predictive = make([][][]float64, s.Predictive)
	res.Noisy = make([][][]float64, s.Predictive)
	var mu sync.Mutex
	done := 0
	return parallel(ctx, opt.Workers, s.Predictive, func(k int) error {
		rng := rngFor(s.Seed, streamPredict, 0, uint64(k), 0)
		j := min(sort.SearchFloat64s(cum, rng.Float64()*c), len(cum)-1)
		seed := seedFor(s.Seed, streamPredictSim, 0, uint64(k), 0)
		x, err := p.simulate(ctx, opt, post.Particles[j].Theta, seed, fmt.Sprintf("predictive-%05d", k))
		if err != nil {
			return err
		}
		noisy := make([][]float64, len(x))
		for i, t := range s.Targets {
			noisy[i] = make([]float64, len(x[i]))
			for m, v := range x[i] {
				noisy[i][m] = v + t.sds[m]*rng.NormFloat64()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		res.Predictive[k], res.Noisy[k] = x, noisy
		done++
		if opt.Progress != nil {
			opt.Progress(-1, done, s.Predictive, done)
		}
		return nil
	})
}
