package nnbeam

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/neuralgo/nn"
)

func init() {
	register.DoFn3x1[context.Context, string, func(Sum), error](&momentsFn{})
}

// FitScaler fits an nn.Standardize scaler to the features of the rows of
// the shards of data, as nn.FitScaler does on one machine: the population
// mean and standard deviation of every column (a deviation of 0 becomes
// 1). It runs two pipelines on o.Runner, with o.WorkDir as Train does:
// one sums the columns for their means, the next sums the deviations from
// the means and their squares, for the variance corrected for the
// rounding of the means, as gonum's stat.PopMeanStdDev computes it.
// data.Scaler is not applied. The shards must have the same columns:
// set data.CSV.Features to find the features by name in each, or shards
// of different widths fail the job. FitScaler returns the errors of Train's
// pipelines, and an error wrapping nn.ErrEmpty if the shards hold no
// rows.
func FitScaler(ctx context.Context, data *Data, o *TrainOptions) (*nn.Scaler, error) {
	if o == nil {
		o = &TrainOptions{}
	}
	shards, err := matchShards(ctx, data.Glob)
	if err != nil {
		return nil, err
	}
	work := o.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "nnbeam-scale"); err != nil {
			return nil, fmt.Errorf("nnbeam: %w", err)
		}
		defer os.RemoveAll(work)
	}
	raw := *data
	raw.Scaler = nil
	sums, err := runSum(ctx, o.Runner, work, shards, &momentsFn{Data: raw})
	if err != nil {
		return nil, fmt.Errorf("nnbeam: fitting the scaler: %w", err)
	}
	if sums.Rows == 0 {
		return nil, fmt.Errorf("nnbeam: the shards of %s hold no rows: %w", data.Glob, nn.ErrEmpty)
	}
	n := float64(sums.Rows)
	mean := make([]float64, sums.Len())
	for j := range mean {
		mean[j] = sums.Value(j) / n
	}
	dev, err := runSum(ctx, o.Runner, work, shards, &momentsFn{Data: raw, Mean: mean})
	if err != nil {
		return nil, fmt.Errorf("nnbeam: fitting the scaler: %w", err)
	}
	if dev.Rows != sums.Rows || dev.Len() != 2*len(mean) {
		return nil, errors.New("nnbeam: the shards changed while the scaler was fitted")
	}
	s := &nn.Scaler{Kind: nn.Standardize, Offset: mean, Scale: make([]float64, len(mean))}
	for j := range mean {
		d, d2 := dev.Value(j), dev.Value(len(mean)+j)
		v := (d2 - d*d/n) / n
		s.Scale[j] = math.Sqrt(max(v, 0))
		if s.Scale[j] == 0 {
			s.Scale[j] = 1
		}
	}
	return s, nil
}

// momentsFn sums the features of the rows of a shard, or with Mean their
// deviations from it and the squares of those.
type momentsFn struct {
	Data Data
	Mean []float64
}

// ProcessElement emits the sums of the rows of the shard path, or an
// empty sum for a shard without rows. The shard is read afresh, not
// cached, since it is read twice only.
func (f *momentsFn) ProcessElement(ctx context.Context, path string, emit func(Sum)) error {
	sh, err := readShard(ctx, path, &f.Data)
	if err != nil {
		return err
	}
	if sh.rows() == 0 {
		emit(Sum{})
		return nil
	}
	_, c := sh.x.Dims()
	if f.Mean != nil && len(f.Mean) != c {
		return fmt.Errorf("nnbeam: %s has %d features, the first shards %d", path, c, len(f.Mean))
	}
	var sum Sum
	if f.Mean == nil {
		sum = newSum(c)
		for i := range sh.rows() {
			sum.AddVec(0, sh.x.RawRowView(i))
		}
	} else {
		sum = newSum(2 * c)
		d := make([]float64, c)
		for i := range sh.rows() {
			for j, v := range sh.x.RawRowView(i) {
				d[j] = v - f.Mean[j]
			}
			sum.AddVec(0, d)
			for j := range d {
				d[j] *= d[j]
			}
			sum.AddVec(c, d)
		}
	}
	sum.Rows = int64(sh.rows())
	emit(sum)
	return nil
}
