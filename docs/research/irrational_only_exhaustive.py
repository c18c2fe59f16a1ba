# Independent exhaustive check of tests/golden/irrational_only_*.json (review
# script written by a helper session on 2026-12-01; not part of the product or
# of CI). It ignores the proof in tests/irrational_only_test.cpp: it lists the
# half-plane sets a neuron without bias can cut out of the samples, tries every
# multiset of `width` of them, solves the 40 linear fit equations in the
# matrices P_j = a_j w_j^T exactly, imposes det P_j = 0 with Groebner bases and
# checks each w_j's signs. Reported on 2026-12-01: width 3, no fit; width 4,
# only the proof's pattern has a fit, unique up to symmetry and irrational.
# Needs sympy (Debian: apt-get install python3-sympy). Usage:
#   python3 docs/research/irrational_only_exhaustive.py irrational_only_m4_k2_sqrt2.json 4

import json, os, sys, itertools
from fractions import Fraction as F
import sympy as sp
fname=sys.argv[1]; width=int(sys.argv[2])
d=json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", fname)))
S=[([F(a) for a in s['x']],[F(a) for a in s['y']]) for s in d['dataset']['samples']]
if d['architecture']['output_bias']:
    assert S[0]==([0,0],[0,0]); S=S[1:]   # c = f(0) = 0
X=[s[0] for s in S]; Y=[s[1] for s in S]; n=len(X)
import math
order=sorted(range(n),key=lambda i: math.atan2(X[i][1],X[i][0]))
gensets=set()
for k in range(n):
    a,b=X[order[k]],X[order[(k+1)%n]]
    u=[a[0]+b[0],a[1]+b[1]]        # strictly inside the gap (gap angle < pi)
    assert a[0]*b[1]-a[1]*b[0]>0
    w=[-u[1],u[0]]
    for sg in (1,-1):
        G=frozenset(i for i in range(n) if sg*(w[0]*X[i][0]+w[1]*X[i][1])>0)
        assert all(sg*(w[0]*X[i][0]+w[1]*X[i][1])!=0 for i in range(n))
        gensets.add(G)
gensets=sorted(gensets,key=sorted); print('generic half-plane sets:',len(gensets))
opts=[frozenset()]+gensets
def rref_solve(A,b):
    # exact; returns None if inconsistent, else (particular, nullbasis)
    m=len(A); nc=len(A[0]); M=[row[:]+[bb] for row,bb in zip(A,b)]
    piv=[]; r=0
    for c in range(nc):
        p=next((i for i in range(r,m) if M[i][c]!=0),None)
        if p is None: continue
        M[r],M[p]=M[p],M[r]; inv=1/M[r][c]; M[r]=[v*inv for v in M[r]]
        for i in range(m):
            if i!=r and M[i][c]!=0:
                f=M[i][c]; M[i]=[vi-f*vr for vi,vr in zip(M[i],M[r])]
        piv.append(c); r+=1
        if r==m: break
    if any(all(v==0 for v in M[i][:nc]) and M[i][nc]!=0 for i in range(m)): return None
    free=[c for c in range(nc) if c not in piv]
    part=[F(0)]*nc
    for i,c in enumerate(piv): part[c]=M[i][nc]
    null=[]
    for fc in free:
        v=[F(0)]*nc; v[fc]=F(1)
        for i,c in enumerate(piv): v[c]=-M[i][fc]
        null.append(v)
    return part,null
found=[]; ncons=0
for combo in itertools.combinations_with_replacement(range(len(opts)),width):
    groups={}
    for o in combo:
        if o: groups[o]=groups.get(o,0)+1
    keys=sorted(groups)
    nv=4*len(keys)
    if nv==0: continue
    A=[];b=[]
    for i in range(n):
        for r in range(2):
            row=[F(0)]*nv
            for gi,g in enumerate(keys):
                if i in opts[g]:
                    row[4*gi+2*r]=X[i][0]; row[4*gi+2*r+1]=X[i][1]
            A.append(row); b.append(Y[i][r])
    sol=rref_solve(A,b)
    if sol is None: continue
    ncons+=1
    found.append((keys,[groups[k] for k in keys],sol))
print('linearly consistent merged pattern combos:',ncons)
# dedupe by keys/multiplicity
seen=set(); results=[]
for keys,mult,(part,null) in found:
    key=(tuple(keys),tuple(mult))
    if key in seen: continue
    seen.add(key)
    lam=sp.symbols('l0:%d'%len(null))
    P=[sp.Matrix(2,2,[sp.Rational(part[4*g+e].numerator,part[4*g+e].denominator)+sum(sp.Rational(null[k][4*g+e].numerator,null[k][4*g+e].denominator)*lam[k] for k in range(len(null))) for e in range(4)]) for g in range(len(keys))]
    eqs=[sp.expand(P[g].det()) for g in range(len(keys)) if mult[g]==1]
    eqs=[e for e in eqs if e!=0]
    info=dict(sets=[sorted(opts[k]) for k in keys],mult=mult,dim=len(null),ndet=len(eqs))
    if not eqs and len(null)==0:
        sols=[{}]
    else:
        if eqs and lam:
            gb=sp.groebner(eqs,*lam,order='lex')
            info['groebner']=str(list(gb.exprs)) if len(str(list(gb.exprs)))<300 else 'long'
            sols=[] if list(gb.exprs)==[1] else sp.solve(eqs,lam,dict=True)
        elif eqs: sols=[] if any(e!=0 for e in eqs) else [{}]
        else: sols=[{}]
    good=[]
    for so in sols:
        Ps=[p.subs(so) for p in P]
        free=set().union(*[p.free_symbols for p in Ps])
        ok=True; note=''
        if free: note='positive-dim family, free %s'%free
        # sign check for single neurons (only if fully determined)
        for g,(k,mu) in enumerate(zip(keys,mult)):
            if mu!=1 or free: continue
            Pg=Ps[g]
            if not all(v.is_real for v in Pg): ok=False; break
            if Pg==sp.zeros(2,2): continue
            w0=Pg.row(0) if Pg.row(0)!=sp.zeros(1,2) else Pg.row(1)
            vals=[sp.nsimplify(w0[0]*X[i][0]+w0[1]*X[i][1]) for i in range(n)]
            G=opts[k]
            pos=all(sp.N(v,40)>=-1e-30 if i in G else sp.N(v,40)<=1e-30 for i,v in enumerate(vals))
            neg=all(sp.N(v,40)<=1e-30 if i in G else sp.N(v,40)>=-1e-30 for i,v in enumerate(vals))
            if not(pos or neg): ok=False; break
        allrat=all(all(v.is_rational for v in p) for p in Ps) if not free else None
        good.append((ok,allrat,note,[p.tolist() for p in Ps]))
    results.append((info,good))
for info,good in results:
    print(info)
    for g in good: print('   sign-ok=%s rational=%s %s'%g[:3], g[3] if g[0] else '')
