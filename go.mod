module github.com/neuralgo/nn

go 1.26

require (
	gonum.org/v1/gonum v0.17.0
	gonum.org/v1/netlib v0.0.0-20220323200511-14de99971b2d
)

require golang.org/x/tools v0.30.0 // indirect
