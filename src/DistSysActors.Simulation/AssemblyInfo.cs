using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("DistSysActors.Simulation.Tests")]
